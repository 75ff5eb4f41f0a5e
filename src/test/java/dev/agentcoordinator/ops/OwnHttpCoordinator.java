package dev.agentcoordinator.ops;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.config.CoordinatorSettings;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A coordinator of one test class's own, for settings of the HTTP server the shared ones must not have: embedded
 * broker and database in a folder of its own, free ports, no demo agents, {@code settings} over that. Closed with its
 * folder.
 */
record OwnHttpCoordinator(Path folder, RunningCoordinator coordinator) implements AutoCloseable {

    static OwnHttpCoordinator start(String name, Map<String, String> settings) throws Exception {
        Path folder = TestFolders.create(name);
        Map<String, String> all = new HashMap<>(Map.of(
                "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(folder).toString(),
                "broker.url", "", "db.url", "",
                "broker.embedded.port", "0",
                "http.port", "0",
                "http.host", "127.0.0.1",
                "demo-agents.enabled", "false"));
        all.putAll(settings);
        return new OwnHttpCoordinator(folder, CoordinatorApp.start(CoordinatorSettings.fromMap(all)));
    }

    /** A raw connection to its HTTP server, whose reads give up after {@code readTimeoutMs}. */
    Socket connect(int readTimeoutMs) throws IOException {
        URI server = URI.create(coordinator.httpUrl());
        Socket socket = new Socket(server.getHost(), server.getPort());
        socket.setSoTimeout(readTimeoutMs);
        return socket;
    }

    @Override
    public void close() throws Exception {
        try {
            coordinator.close();
        } finally {
            TestFolders.delete(folder);
        }
    }
}
