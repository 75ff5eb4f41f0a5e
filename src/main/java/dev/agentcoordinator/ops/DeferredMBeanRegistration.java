package dev.agentcoordinator.ops;

import org.apache.camel.CamelContext;
import org.apache.camel.impl.engine.DefaultManagementStrategy;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListener;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.management.DefaultManagementAgent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.management.JMException;
import javax.management.ObjectName;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Camel's management agent, registering the MBeans Hawtio reads once the coordinator is ready
 * instead of on the main thread while it starts. Assembling and registering the ~440 MBeans of the
 * shipped workflows (routes, endpoints, consumers, services) was about 0.9 s of the main thread's CPU
 * up to ready, and the main thread is the critical path of a start (BENCHMARKS.md, sessions 17 and 18).
 * Until {@link #release}, Camel's registrations wait here in order; a name that waits counts as
 * registered (Camel does not register it twice), and one unregistered meanwhile is dropped. After
 * {@code release} a background thread registers them, and later ones go straight through.
 */
public final class DeferredMBeanRegistration extends DefaultManagementAgent {
    private static final Logger LOG = LoggerFactory.getLogger(DeferredMBeanRegistration.class);

    private record Waiting(Object managed, boolean forceRegistration) {
    }

    /**
     * Names waiting in any context of this JVM: a second context of the same name (tests run several
     * coordinators in one JVM) must see the first one's name as taken, as it would in the MBean server.
     */
    private static final Set<ObjectName> WAITING_IN_JVM = ConcurrentHashMap.newKeySet();

    private final Map<ObjectName, Waiting> waiting = new LinkedHashMap<>();
    private boolean deferring = true;
    private boolean stopped;

    private DeferredMBeanRegistration(CamelContext context) {
        super(context);
    }

    /**
     * A Camel Main listener that puts this agent in place of the default one before Camel Main
     * applies its {@code camel.main.jmx*} settings to it. Nothing changes when JMX is off.
     */
    public static MainListener installer() {
        return new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport main) {
                install(main.getCamelContext());
            }
        };
    }

    /** Puts this agent in place of the context's default one; before the context initialises. */
    private static void install(CamelContext context) {
        if (context.getManagementStrategy() instanceof DefaultManagementStrategy strategy
                && strategy.getManagementAgent() instanceof DefaultManagementAgent
                && !(strategy.getManagementAgent() instanceof DeferredMBeanRegistration)) {
            strategy.setManagementAgent(new DeferredMBeanRegistration(context));
        }
    }

    /** Starts registering what waits, on a thread of its own; does nothing without this agent. */
    public static void release(CamelContext context) {
        if (context.getManagementStrategy().getManagementAgent() instanceof DeferredMBeanRegistration agent) {
            Thread registering = new Thread(agent::registerWaiting, "coordinator-mbeans");
            registering.setDaemon(true);
            registering.start();
        }
    }

    @Override
    public synchronized void register(Object managed, ObjectName name, boolean forceRegistration) throws JMException {
        if (deferring) {
            waiting.put(name, new Waiting(managed, forceRegistration));
            WAITING_IN_JVM.add(name);
            return;
        }
        super.register(managed, name, forceRegistration);
    }

    @Override
    public synchronized void unregister(ObjectName name) throws JMException {
        if (stopWaiting(name) != null && !super.isRegistered(name)) {
            return;
        }
        super.unregister(name);
    }

    @Override
    public synchronized boolean isRegistered(ObjectName name) {
        return WAITING_IN_JVM.contains(name) || super.isRegistered(name);
    }

    /** A proxy needs the MBean itself: one still waiting is registered now. */
    @Override
    public synchronized <T> T newProxyClient(ObjectName name, Class<T> mbean) {
        Waiting now = stopWaiting(name);
        if (now != null) {
            registerQuietly(name, now);
        }
        return super.newProxyClient(name, mbean);
    }

    @Override
    protected synchronized void doStop() throws Exception {
        stopped = true;
        waiting.keySet().forEach(WAITING_IN_JVM::remove);
        waiting.clear();
        super.doStop();
    }

    /** One at a time, each under the lock, so that Camel's own calls interleave with them in order. */
    private void registerWaiting() {
        long started = System.nanoTime();
        int registered = 0;
        while (true) {
            synchronized (this) {
                if (stopped) {
                    return;
                }
                if (waiting.isEmpty()) {
                    deferring = false;
                    LOG.info("JMX: {} MBeans registered for Hawtio, after ready, in {} ms", registered,
                            (System.nanoTime() - started) / 1_000_000);
                    return;
                }
                ObjectName first = waiting.keySet().iterator().next();
                registerQuietly(first, stopWaiting(first));
                registered++;
            }
        }
    }

    private Waiting stopWaiting(ObjectName name) {
        Waiting was = waiting.remove(name);
        if (was != null) {
            WAITING_IN_JVM.remove(name);
        }
        return was;
    }

    private void registerQuietly(ObjectName name, Waiting waitingOne) {
        try {
            super.register(waitingOne.managed(), name, waitingOne.forceRegistration());
        } catch (JMException | RuntimeException e) {
            LOG.warn("JMX: MBean {} not registered: {}", name, e.toString());
        }
    }
}
