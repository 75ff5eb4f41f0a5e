package dev.agentcoordinator;

import org.junit.platform.suite.api.IncludeTags;
import org.junit.platform.suite.api.SelectPackages;
import org.junit.platform.suite.api.Suite;

/**
 * The test classes that start processes of their own ({@link StartsChildProcesses}), one after another
 * in one test JVM while the other runs the rest. Surefire's full run leaves those classes out and, in
 * alphabetical order, hands this suite out first, so the longest stretch of the run starts at once.
 */
@Suite
@SelectPackages("dev.agentcoordinator")
@IncludeTags(StartsChildProcesses.TAG)
class ChildProcessTests {
}
