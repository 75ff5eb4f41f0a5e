package dev.agentcoordinator.ops;

import dev.agentcoordinator.StartsChildProcesses;
import dev.agentcoordinator.infra.TestJvm;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/operations.md "Logs": with coordinator.log.format=json, stdout carries JSON objects only. Spring's JMS
 * listener containers log through Commons Logging; with commons-logging.jar beside spring-jcl, commons-logging's
 * LogFactory finds spring-jcl's service, which prints a plain line to stdout ("Standard Commons Logging discovery
 * in action with spring-jcl ..."). Which of the two jars wins depends on the class path's order: the test class
 * path puts spring-jcl first, while {@code ./coordinator}'s (Maven's runtime class path) and the image's
 * ({@code lib/*}, by name) put commons-logging first. So a child JVM here takes the class path in name order.
 */
@StartsChildProcesses
class CommonsLoggingStdoutTest {

    @Test
    void commonsLoggingWritesNothingToStdoutWhateverTheClassPathOrder() throws Exception {
        List<String> entries = new ArrayList<>(Arrays.asList(TestJvm.classpath().split(File.pathSeparator)));
        entries.sort(Comparator.comparing(entry -> Path.of(entry).getFileName().toString()));
        Process child = new ProcessBuilder(TestJvm.java(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", String.join(File.pathSeparator, entries), LogThroughCommonsLogging.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isZero();
        assertThat(stdout).as("what Commons Logging wrote to stdout").isEmpty();
    }

    /** A child JVM's main: one logger taken and used as Spring's JMS containers take theirs. */
    public static final class LogThroughCommonsLogging {
        public static void main(String[] args) {
            org.apache.commons.logging.LogFactory.getLog(LogThroughCommonsLogging.class).debug("a debug line");
        }
    }
}
