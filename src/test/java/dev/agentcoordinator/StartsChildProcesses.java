package dev.agentcoordinator;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that starts coordinators, brokers or databases in processes of their own. Such
 * classes take turns across the test JVMs surefire runs side by side ({@link ChildProcessTurns}): two of
 * them at once put a load of 18 on 2 cores in a fresh-clone CI run, and their timing bounds failed.
 * Beside ordinary test classes they run fine.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ChildProcessTurns.class)
public @interface StartsChildProcesses {
}
