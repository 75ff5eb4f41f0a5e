package dev.agentcoordinator.infra;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** Forwards TCP to a broker, for tests of what its clients do when it falls silent ({@link #freeze}) or dies ({@link #cut}). */
public final class BrokerProxy implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final AtomicBoolean frozen = new AtomicBoolean();
    private final java.util.List<Socket> sockets = new CopyOnWriteArrayList<>();

    public BrokerProxy(int brokerPort) throws IOException {
        Thread acceptor = new Thread(() -> {
            try {
                while (!server.isClosed()) {
                    Socket client = server.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), brokerPort);
                    sockets.add(client);
                    sockets.add(upstream);
                    pump(client, upstream);
                    pump(upstream, client);
                }
            } catch (IOException closed) {
                // the test is over
            }
        }, "freezing-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** A network partition: every connection kept open, nothing passed on. */
    public void freeze() {
        frozen.set(true);
    }

    /**
     * A broker killed: every connection reset (as the system resets a dead process's sockets), and no new one
     * taken. Unlike a broker stopped in the test's JVM, which tells its clients it goes first.
     */
    public void cut() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            try {
                socket.setSoLinger(true, 0);
            } catch (java.net.SocketException closedAlready) {
                // its other side's pump closed it
            }
            socket.close();
        }
    }

    private void pump(Socket from, Socket to) {
        Thread pump = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
                    if (!frozen.get()) {   // frozen: read and dropped, as a partition loses them
                        out.write(buffer, 0, read);
                        out.flush();
                    }
                }
            } catch (IOException closed) {
                // one side closed
            }
        }, "freezing-proxy-pump");
        pump.setDaemon(true);
        pump.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }
}
