package dev.agentcoordinator.infra;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.QueueConfiguration;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.remoting.FailureListener;
import org.apache.activemq.artemis.core.remoting.impl.netty.NettyAcceptor;
import org.apache.activemq.artemis.core.server.JournalType;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.core.server.impl.AddressInfo;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerAddressPlugin;
import org.apache.activemq.artemis.core.server.plugin.ActiveMQServerConnectionPlugin;
import org.apache.activemq.artemis.core.settings.impl.AddressSettings;
import org.apache.activemq.artemis.spi.core.protocol.RemotingConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An ActiveMQ Artemis broker inside the coordinator's JVM, for development and tests: persistent
 * journal under {@code dataDir}, one acceptor on 127.0.0.1 speaking CORE, AMQP and STOMP, and no
 * security. Production uses a standalone broker (see docker-compose.yml).
 */
public final class EmbeddedBroker implements AutoCloseable {

    /** How many times the embedded broker delivers a message before it moves it to the dead-letter address. */
    public static final int MAX_DELIVERY_ATTEMPTS = 10;
    /** The longest a message rolled back waits for its next delivery (200 ms doubling); docker/artemis/broker.properties too. */
    public static final long MAX_REDELIVERY_DELAY_MS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBroker.class);

    public static final String DEAD_LETTER_ADDRESS = "DLA";
    public static final String EXPIRY_ADDRESS = "ExpiryQueue";
    public static final String EVENTS_DEAD_LETTER_QUEUE = "agent.events.DLQ";
    private static final String ACCEPTOR = "coordinator";
    /**
     * The primary broker's lock in its node manager directory ({@code dataDir}), held while it runs
     * (Artemis' FileLockNodeManager: {@code serverlock.1}; {@code server.lock} only keeps its state).
     */
    private static final String NODE_MANAGER_LOCK = "serverlock.1";
    /** This coordinator's lock of the directory ({@link DirectoryLock}); Artemis minds no file of another name. */
    static final String DIRECTORY_LOCK = "coordinator.lock";

    /** The broker listens on loopback only: it is the development broker. */
    public static final String HOST = "127.0.0.1";

    /** Default of {@code coordinator.broker.embedded.journal-buffer-timeout-us}. */
    public static final int DEFAULT_JOURNAL_BUFFER_TIMEOUT_US = 200;

    private final int port;
    private final Path dataDir;
    private final int journalBufferTimeoutUs;
    private final String replyQueue;
    private EmbeddedActiveMQ server;
    /** This instance's hold on the data directory, from start to close. */
    private DirectoryLock directoryLock;
    private String url;
    /** Set once this broker stops: the connections it then closes are not lost clients. */
    private volatile boolean stopping;

    /** @param port the TCP port to listen on; 0 picks a free one */
    public EmbeddedBroker(int port, Path dataDir) {
        this(port, dataDir, DEFAULT_JOURNAL_BUFFER_TIMEOUT_US);
    }

    /** @param journalBufferTimeoutUs the longest a journal write waits to share a disk sync with others */
    public EmbeddedBroker(int port, Path dataDir, int journalBufferTimeoutUs) {
        this(port, dataDir, journalBufferTimeoutUs, null);
    }

    /**
     * @param replyQueue the coordinator's reply queue (coordinator.reply.queue): given the settings of the
     *                   coordinator's own addresses (arrival stamps above all) when its name is outside coordinator.#
     */
    public EmbeddedBroker(int port, Path dataDir, int journalBufferTimeoutUs, String replyQueue) {
        this.port = port;
        this.dataDir = dataDir.toAbsolutePath();
        this.journalBufferTimeoutUs = journalBufferTimeoutUs;
        this.replyQueue = replyQueue;
    }

    /** Starts the broker and returns the URL clients connect to, {@code tcp://127.0.0.1:<port>}. */
    public synchronized String start() throws Exception {
        if (server != null) {
            return url;
        }
        takeDirectory();
        stopping = false;
        try {
            server = startServer();
        } catch (Exception | Error e) {
            releaseDirectory();
            throw e;
        }
        url = "tcp://" + HOST + ":" + ((NettyAcceptor) server.getActiveMQServer().getRemotingService().getAcceptor(ACCEPTOR)).getActualPort();
        LOG.info("Embedded Artemis broker listening on {} (data in {})", url, dataDir);
        return url;
    }

    /** The URL the broker will have once started; needs a port chosen up front. */
    public String urlBeforeStart() {
        if (port == 0) {
            throw new IllegalStateException("the URL of an embedded broker on a port of its choosing is known only once it runs");
        }
        return "tcp://" + HOST + ":" + port;
    }

    /** The running broker's journal buffer timeout, as Artemis applied it. */
    synchronized int journalBufferTimeoutNanos() {
        if (server == null) {
            throw new IllegalStateException("embedded broker not started");
        }
        return server.getActiveMQServer().getConfiguration().getJournalBufferTimeout_NIO();
    }

    public synchronized String url() {
        if (url == null) {
            throw new IllegalStateException("embedded broker not started");
        }
        return url;
    }

    /**
     * Takes this coordinator's lock of the data directory ({@link DirectoryLock}), if it has not yet; start()
     * does. Infrastructure takes it earlier, on its own thread and before the database's, so that two
     * coordinators started at once cannot each take one of the two and both be refused.
     */
    public synchronized void takeDirectory() throws IOException {
        if (directoryLock == null) {
            directoryLock = DirectoryLock.take(dataDir.resolve(DIRECTORY_LOCK), dataDir, "embedded broker");
        }
    }

    private void releaseDirectory() throws IOException {
        if (directoryLock != null) {
            DirectoryLock held = directoryLock;
            directoryLock = null;
            held.close();
        }
    }

    private EmbeddedActiveMQ startServer() throws Exception {
        // Artemis would wait for the lock for good, and the coordinator hang at start without a word
        // (a coordinator of an earlier build, which takes no DirectoryLock, may hold it)
        if (FileLocks.isHeld(dataDir.resolve(NODE_MANAGER_LOCK))) {
            throw FileLocks.inUse("embedded broker", dataDir, "");
        }
        EmbeddedActiveMQ embedded = new EmbeddedActiveMQ().setConfiguration(configuration());
        embedded.start();
        embedded.getActiveMQServer().getRemotingService().addIncomingInterceptor(new StompNacks(embedded.getActiveMQServer()));
        NettyAcceptor acceptor = (NettyAcceptor) embedded.getActiveMQServer().getRemotingService().getAcceptor(ACCEPTOR);
        if (acceptor == null || !acceptor.isStarted() || acceptor.getActualPort() <= 0) {
            // Artemis logs an acceptor that cannot bind and runs on without it: clients would only time out
            embedded.stop();
            throw new IllegalStateException(portInUse());
        }
        return embedded;
    }

    /**
     * Refuses a configured port something already listens on, at once: the broker starts beside the database,
     * whose start takes seconds and would be waited for before the broker's failure is told.
     */
    public void refuseIfPortInUse() throws IOException {
        if (port != 0 && !FreePort.isBindable(HOST, port)) {
            throw new IOException(portInUse());
        }
    }

    private String portInUse() {
        return "the embedded broker could not listen on " + HOST + ":" + port
                + " (coordinator.broker.embedded.port): is the port in use? Port 0 picks a free one.";
    }

    @Override
    public synchronized void close() throws Exception {
        try {
            if (server != null) {
                stopping = true;
                closeClientSessions();
                server.stop();
                server = null;
                LOG.info("Embedded Artemis broker stopped");
            }
        } finally {
            releaseDirectory();
        }
    }

    /**
     * Closes the sessions STOMP agents still have when the broker stops (the coordinator's own clients closed theirs
     * before), while it still runs. Left to Artemis' stop, they could be closed after the journal's ID generator had
     * stopped: AMQ222069 "error cleaning up stomp connection" or AMQ222247 "Unable to close consumer", a WARN with
     * "AMQ229257: IDGenerator has been stopped" and its stack trace (a race: 1 stop of 14 with 8 agents in
     * BrokerClientLossLogTest). Their connections close with the broker. A JMS client's sessions are left alone: one
     * that reconnects to the broker started again resumes them.
     */
    private void closeClientSessions() {
        org.apache.activemq.artemis.core.server.ActiveMQServer broker = server.getActiveMQServer();
        for (org.apache.activemq.artemis.core.server.ServerSession session : broker.getSessions()) {
            RemotingConnection connection = session.getRemotingConnection();
            if (connection == null || !"STOMP".equalsIgnoreCase(connection.getProtocolName())) {
                continue;
            }
            try {
                session.close(false);
            } catch (Exception e) {
                LOG.debug("closing a client's session {} before the broker stops", session.getName(), e);
            }
        }
    }

    private static AddressSettings queueSettings() {
        return new AddressSettings()
                .setAutoCreateAddresses(true)
                .setAutoCreateQueues(true)
                .setAutoDeleteQueues(false)
                .setAutoDeleteAddresses(false)
                .setDefaultAddressRoutingType(RoutingType.ANYCAST)
                .setDefaultQueueRoutingType(RoutingType.ANYCAST)
                .setDeadLetterAddress(SimpleString.of(DEAD_LETTER_ADDRESS))
                // what expires here (a question past its wait) is dropped, not kept in
                // ExpiryQueue, which nothing reads: the coordinator's records already say it expired
                .setExpiryAddress(SimpleString.of(""))
                .setMaxDeliveryAttempts(MAX_DELIVERY_ATTEMPTS)
                .setRedeliveryDelay(200)
                .setRedeliveryMultiplier(2.0)
                .setMaxRedeliveryDelay(MAX_REDELIVERY_DELAY_MS);
    }

    private ConfigurationImpl configuration() throws Exception {
        ConfigurationImpl config = new ConfigurationImpl();
        config.setName("agent-coordinator-embedded");
        config.setPersistenceEnabled(true);
        config.setJournalType(JournalType.NIO);   // AIO needs libaio; NIO works everywhere
        // How long a journal write waits for others to share its disk sync. Artemis' NIO default
        // (3.3 ms) is a placeholder that `artemis create` replaces with one measured sync of the
        // disk; left in place, every persistent send and commit waits for the timer instead of the
        // disk (dispatch latency p50 7.1 -> 3.0 ms, see BENCHMARKS.md). A shorter wait costs no
        // throughput on a slow disk either: writes that arrive during a sync share the next one.
        config.setJournalBufferTimeout_NIO((int) Math.min(Integer.MAX_VALUE, journalBufferTimeoutUs * 1000L));
        // a development broker inside the coordinator's JVM: small thread pools (defaults 30 and 5)
        config.setThreadPoolMaxSize(8);
        config.setScheduledThreadPoolMaxSize(2);
        config.setJournalDirectory(dataDir.resolve("journal").toString());
        config.setBindingsDirectory(dataDir.resolve("bindings").toString());
        config.setPagingDirectory(dataDir.resolve("paging").toString());
        config.setLargeMessagesDirectory(dataDir.resolve("large-messages").toString());
        config.setNodeManagerLockDirectory(dataDir.toString());
        config.setSecurityEnabled(false);
        // Several brokers may run in one test JVM; their MBeans would collide under one name.
        config.setJMXManagementEnabled(false);
        // an agent's connection lost (its process ended, its network went) is one INFO line, here; Artemis' own WARNs
        // about it (four to a connection, log4j2.xml) are not logged
        config.registerBrokerPlugin(new LostClients());
        config.registerBrokerPlugin(new MisnamedAddresses());
        // a destination named as JMS writes it (queue://x: a request's reply-to as a STOMP or AMQP agent reads it) is
        // the anycast queue x; it was an address of that name that nothing reads, and the agent's steps timed out
        config.addAcceptorConfiguration(ACCEPTOR, "tcp://" + HOST + ":" + port
                + "?protocols=CORE,AMQP,STOMP;anycastPrefix=queue://;multicastPrefix=topic://");

        // As in a standalone broker's broker.xml: every address dead-letters to DLA, expires to ExpiryQueue
        // (but for the agents' and the coordinator's own addresses, below).
        config.addAddressSetting("#", new AddressSettings()
                .setDeadLetterAddress(SimpleString.of(DEAD_LETTER_ADDRESS))
                .setExpiryAddress(SimpleString.of(EXPIRY_ADDRESS)));
        config.addAddressSetting("agent.#", queueSettings());
        // the broker stamps what reaches the coordinator's queues on arrival (_AMQ_INGRESS_TIMESTAMP):
        // how long replies have waited, on the broker's clock rather than each agent's (ReplyBacklog)
        config.addAddressSetting("coordinator.#", queueSettings().setEnableIngressTimestamp(true));
        if (replyQueue != null && !replyQueue.startsWith("coordinator.")) {
            config.addAddressSetting(replyQueue, queueSettings().setEnableIngressTimestamp(true));
        }

        config.addQueueConfiguration(QueueConfiguration.of(DEAD_LETTER_ADDRESS)
                .setRoutingType(RoutingType.ANYCAST).setDurable(true));
        config.addQueueConfiguration(QueueConfiguration.of(EXPIRY_ADDRESS)
                .setRoutingType(RoutingType.ANYCAST).setDurable(true));
        config.addQueueConfiguration(QueueConfiguration.of(EVENTS_DEAD_LETTER_QUEUE)
                .setRoutingType(RoutingType.ANYCAST).setDurable(true));
        return config;
    }

    /**
     * One INFO line for each client whose connection fails: one that ends it with sessions still open (a process
     * killed, its socket closed by the system) or that the broker finds dead (a reset, the connection TTL passed); not
     * one that closes its sessions first (a JMS connection closed, a STOMP DISCONNECT), nor those this broker closes
     * as it stops. Agents come and go in normal operation; Artemis logged each loss as WARNs: AMQ222067 (failure
     * detected), AMQ222061 and AMQ222107 (its sessions cleared up) and, for STOMP, AMQ332069 (an ERROR frame "sent"
     * to the client gone), about 30 lines for an agent process of 8 connections. log4j2.xml leaves those out.
     */
    private final class LostClients implements ActiveMQServerConnectionPlugin {
        private volatile org.apache.activemq.artemis.core.server.ActiveMQServer server;

        @Override
        public void registered(org.apache.activemq.artemis.core.server.ActiveMQServer server) {
            this.server = server;
        }

        @Override
        public void afterCreateConnection(RemotingConnection connection) {
            connection.addFailureListener(new FailureListener() {
                @Override
                public void connectionFailed(ActiveMQException cause, boolean failedOver) {
                    connectionFailed(cause, failedOver, null);
                }

                @Override
                public void connectionFailed(ActiveMQException cause, boolean failedOver, String scaleDownTargetNodeID) {
                    // a JMS client that closed its connection: its sessions closed first, then the socket (a "remote disconnect")
                    boolean closedCleanly = cause instanceof org.apache.activemq.artemis.api.core.ActiveMQRemoteDisconnectException
                            && server != null && server.getSessions(connection.getID().toString()).isEmpty();
                    if (stopping || closedCleanly) {
                        return;
                    }
                    String reason = cause == null || cause.getMessage() == null || cause.getMessage().isBlank()
                            ? "closed without a disconnect" : cause.getMessage();
                    LOG.info("Broker client lost: {} connection from {}{} ({}); what it had not acknowledged is redelivered",
                            connection.getProtocolName(), connection.getRemoteAddress(),
                            connection.getClientID() == null ? "" : ", client id " + connection.getClientID(), reason);
                }
            });
        }
    }

    /**
     * A WARN for each STOMP NACK: Artemis takes a NACK as an ACK (its StompFrameHandlerV11.onNack), so the message is
     * consumed, neither delivered again nor dead-lettered, and a step request NACKed left its step waiting for its
     * timeout with nothing to tell why (docs/agent-protocol.md, "Never NACK a request"; StompRequestGivenBackTest).
     */
    private static final class StompNacks implements org.apache.activemq.artemis.core.protocol.stomp.StompFrameInterceptor {
        private final org.apache.activemq.artemis.core.server.ActiveMQServer broker;

        StompNacks(org.apache.activemq.artemis.core.server.ActiveMQServer broker) {
            this.broker = broker;
        }

        @Override
        public boolean intercept(org.apache.activemq.artemis.core.protocol.stomp.StompFrame frame, RemotingConnection connection) {
            if ("NACK".equals(frame.getCommand())) {
                LOG.warn("Broker: a STOMP client at {} NACKed a message of {}: Artemis takes a NACK as an ACK, so it is consumed, not"
                                + " delivered again nor dead-lettered, and a step request's attempt waits for its timeout. To give a request"
                                + " back, disconnect without acknowledging it, or reply with a retryable error (docs/agent-protocol.md, Connecting)",
                        connection.getRemoteAddress(), queueOf(frame, connection));
            }
            return true;
        }

        /** The queue of the subscription the NACK's ack id names ({@code <consumer id>,<message id>}), or "a queue". */
        private String queueOf(org.apache.activemq.artemis.core.protocol.stomp.StompFrame frame, RemotingConnection connection) {
            String ackId = frame.hasHeader("id") ? frame.getHeader("id") : frame.getHeader("message-id");
            try {
                long consumerId = Long.parseLong(ackId.substring(0, ackId.indexOf(',')));
                for (org.apache.activemq.artemis.core.server.ServerSession session : broker.getSessions(connection.getID().toString())) {
                    org.apache.activemq.artemis.core.server.ServerConsumer consumer = session.locateConsumer(consumerId);
                    if (consumer != null) {
                        return consumer.getQueue().getName().toString();
                    }
                }
            } catch (Exception unknown) {   // an id of another form, a session closing: the WARN says it all the same
                LOG.debug("the queue of STOMP NACK {} is unknown: {}", ackId, unknown.toString());
            }
            return "a queue";
        }
    }

    /**
     * An address named as a JMS destination is written but for the acceptor's prefixes ({@code queue//x} once a STOMP
     * header's unescaped colon is dropped; {@code queue://x} through a broker without them), or with a STOMP escape
     * left in it ({@code \c}).
     */
    private static final java.util.regex.Pattern MISNAMED_ADDRESS = java.util.regex.Pattern.compile("(?i)(queue|topic):?//.*|.*\\\\c.*");

    /**
     * A WARN for each address named like a request's reply-to mangled on its way ({@code queue//coordinator.replies},
     * or left escaped): an agent that sends its replies there has them kept where nothing reads them, and its steps
     * time out with nothing else to tell why. Also for such addresses the journal already has, at start.
     */
    private static final class MisnamedAddresses implements ActiveMQServerAddressPlugin {
        @Override
        public void afterAddAddress(AddressInfo address, boolean reload) {
            String name = address.getName().toString();
            if (MISNAMED_ADDRESS.matcher(name).matches()) {
                LOG.warn("Broker address \"{}\" {}: a client sent to a request's reply-to mangled on its way (its colon dropped:"
                                + " queue//<queue>), or to a STOMP header value not unescaped (reply-to reads queue\\c//<queue>)."
                                + " Nothing reads it: an agent replying there has its steps time out. Send to reply-to as read, or"
                                + " unescaped, with or without its queue:// prefix (docs/agent-protocol.md, Headers)",
                        name, reload ? "exists" : "created");
            }
        }
    }
}
