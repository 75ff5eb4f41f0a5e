package dev.agentcoordinator.infra;

import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A start gives up on a database of its own within coordinator.db.start-wait-ms, whatever the database does with the
 * connections: an operator's start-wait-ms=6000 took 43 s, since a try's connecting was bounded only by the driver's own
 * timeouts (connectTimeout 10 s an address, loginTimeout 60 s).
 */
class DatabaseStartWaitTest {

    @TempDir
    Path tmp;

    @Test
    void aDatabaseThatAcceptsAndNeverAnswersIsGivenUpWithinTheStartWait() throws Exception {
        // the kernel completes the handshakes of its backlog: connected, and never a byte back
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket noBroker = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int brokerPort = noBroker.getLocalPort();
            noBroker.close();   // a closed port: the broker probe fails at once and the start goes on without it
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "db.url", "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/coordinator",
                    "db.start-wait-ms", "6000",
                    "broker.url", "tcp://127.0.0.1:" + brokerPort,
                    "data.dir", tmp.toString()));
            Infrastructure infra = Infrastructure.begin(settings);
            try {
                long started = System.nanoTime();
                assertThatThrownBy(infra::awaitReady)
                        .hasMessageStartingWith("could not connect to or migrate the database at jdbc:postgresql://127.0.0.1:"
                                + silent.getLocalPort() + "/coordinator (coordinator.db.url): ");
                // 6 s of waiting and 4 s of room for a loaded machine; a try's connecting lasted the driver's own bounds (5 s
                // here), so a second try began before the 6 s and ran its whole length past them (12.5 s in all)
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            } finally {
                infra.close();
            }
        }
    }
}
