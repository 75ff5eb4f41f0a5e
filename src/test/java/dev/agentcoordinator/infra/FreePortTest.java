package dev.agentcoordinator.infra;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;

import static org.assertj.core.api.Assertions.assertThat;

class FreePortTest {

    @Test
    void drawsAFreePortBelowTheEphemeralRange() throws Exception {
        for (int i = 0; i < 20; i++) {
            int port = FreePort.on("127.0.0.1");
            assertThat(port).isLessThan(FreePort.ephemeralLow());
            try (ServerSocket server = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(server.getLocalPort()).isEqualTo(port);
            }
        }
    }

    /** The embedded broker's and database's ports are drawn one after the other, neither listening yet. */
    @Test
    void neverHandsOutOnePortTwice() {
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (int i = 0; i < 500; i++) {
            assertThat(ports.add(FreePort.on("127.0.0.1"))).as("draw %d", i).isTrue();
        }
    }

    @Test
    void aListenedPortIsNotBindable() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThat(FreePort.isBindable("127.0.0.1", taken.getLocalPort())).isFalse();
        }
    }
}
