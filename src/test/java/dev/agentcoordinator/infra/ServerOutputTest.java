package dev.agentcoordinator.infra;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What a start learns from the embedded PostgreSQL's output: whether pg_ctl gave up, and why. */
class ServerOutputTest {
    @TempDir
    Path folder;

    @Test
    void aServerThatExitedIsNamedByItsFatalLineAndHintOfThisStartAlone() throws Exception {
        Path file = folder.resolve("postgres.log");
        Files.writeString(file, """
                waiting for server to start....2026-12-08 00:20:01.000 UTC [100] FATAL:  an earlier start's failure
                pg_ctl: could not start server
                """);
        ServerOutput output = ServerOutput.from(file);
        assertThat(output.serverExitedDuringStart()).as("nothing written by this start yet").isEmpty();

        Files.writeString(file, """
                waiting for server to start....2026-12-08 00:24:05.495 UTC [29156] LOG:  listening on IPv4 address "127.0.0.1", port 23572
                2026-12-08 00:24:05.495 UTC [29156] FATAL:  lock file "/tmp/.s.PGSQL.23572.lock" already exists
                2026-12-08 00:24:05.495 UTC [29156] HINT:  Is another postmaster (PID 29086) using socket file "/tmp/.s.PGSQL.23572"?
                2026-12-08 00:24:05.496 UTC [29156] LOG:  database system is shut down
                 stopped waiting
                pg_ctl: could not start server
                Examine the log output.
                """, java.nio.file.StandardOpenOption.APPEND);
        assertThat(output.serverExitedDuringStart()).contains("FATAL:  lock file \"/tmp/.s.PGSQL.23572.lock\" already exists"
                + " / HINT:  Is another postmaster (PID 29086) using socket file \"/tmp/.s.PGSQL.23572\"?");
    }

    @Test
    void aServerThatExitedBeforeItsLoggingBeganIsNamedByAllItWrote() throws Exception {
        Path file = folder.resolve("postgres.log");
        ServerOutput output = ServerOutput.from(file);
        assertThat(output.serverExitedDuringStart()).as("no file yet").isEmpty();
        Files.writeString(file, """
                waiting for server to start....postgres: could not find the database system
                Expected to find it in the directory "/data/postgres",
                but could not open file "/data/postgres/global/pg_control": Permission denied
                 stopped waiting
                pg_ctl: could not start server
                Examine the log output.
                """);
        assertThat(output.serverExitedDuringStart()).contains("postgres: could not find the database system"
                + " / Expected to find it in the directory \"/data/postgres\","
                + " / but could not open file \"/data/postgres/global/pg_control\": Permission denied");
    }

    @Test
    void aServerStillStartingOrReadyIsNotTakenForExited() throws Exception {
        Path file = folder.resolve("postgres.log");
        ServerOutput output = ServerOutput.from(file);
        Files.writeString(file, """
                waiting for server to start....2026-12-08 00:23:53.012 UTC [28644] LOG:  starting PostgreSQL 15.19
                2026-12-08 00:23:53.100 UTC [28644] LOG:  database system is ready to accept connections
                 done
                server started
                """);
        assertThat(output.serverExitedDuringStart()).isEmpty();
    }
}
