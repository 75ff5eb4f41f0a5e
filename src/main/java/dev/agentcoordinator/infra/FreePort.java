package dev.agentcoordinator.infra;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A TCP port nobody listens on right now, for servers that cannot report a port chosen by the OS
 * while binding (PostgreSQL), or whose URL must be known before they start.
 *
 * <p>The port is drawn below the OS's ephemeral range. Between this check and the server's bind,
 * a port of that range can be handed to anything else on the machine: another program's
 * {@code bind(0)}, or the local end of any outgoing connection. Below it, only a program that names
 * the very same port can take it.
 */
public final class FreePort {

    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    /** Linux's default ephemeral range starts here; other systems start theirs higher still. */
    private static final int DEFAULT_EPHEMERAL_LOW = 32768;
    private static final int LOWEST = 20000;
    private static final int DRAWS = 200;
    /**
     * Ports this JVM handed out already: two servers whose ports are drawn one after the other (the embedded broker
     * and database) would otherwise get the same one about once in 12,000 starts, neither listening yet.
     */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePort() {
    }

    public static int on(String host) {
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
        int below = ephemeralLow();
        if (below - LOWEST >= 1000) {
            for (int draw = 0; draw < DRAWS; draw++) {
                int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
                if (!HANDED_OUT.contains(port) && bindable(address, port) && HANDED_OUT.add(port)) {
                    return port;
                }
            }
        }
        return chosenByTheOs(address);   // a system whose ephemeral range starts low, or a crowded one
    }

    static int ephemeralLow() {
        // readLine, not readString: /proc reports a size of 0, and readString then reads one byte (JDK 17)
        try (BufferedReader reader = Files.newBufferedReader(EPHEMERAL_RANGE)) {
            String[] range = reader.readLine().trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return DEFAULT_EPHEMERAL_LOW;
        }
    }

    /** Whether a server could listen on {@code host:port} now. */
    public static boolean isBindable(String host, int port) {
        try {
            return bindable(InetAddress.getByName(host), port);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean bindable(InetAddress address, int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(address, port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int chosenByTheOs(InetAddress address) {
        try (ServerSocket socket = new ServerSocket(0, 1, address)) {
            HANDED_OUT.add(socket.getLocalPort());
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + address.getHostAddress(), e);
        }
    }
}
