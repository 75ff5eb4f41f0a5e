package dev.agentcoordinator;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that starts coordinators, brokers or databases in processes of their own. Two such
 * classes at once put a load of 18 on 2 cores in a fresh-clone CI run, and their timing bounds failed;
 * beside ordinary test classes they run fine. So a full run takes them one after another in one test
 * JVM ({@link ChildProcessTests}, pom.xml's surefire excludes), and a run naming classes lets them take
 * turns across the test JVMs ({@link ChildProcessTurns}).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(StartsChildProcesses.TAG)
@ExtendWith(ChildProcessTurns.class)
public @interface StartsChildProcesses {
    String TAG = "child-processes";
}
