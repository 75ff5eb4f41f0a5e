package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.config.LogFormatSwitch;
import dev.agentcoordinator.config.Secrets;
import dev.agentcoordinator.infra.Messaging;
import org.apache.logging.log4j.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;

/**
 * The demo agents as a process of their own, as real agent services run next to the coordinator
 * (docker-compose's {@code demo-agents} service). Reads the same settings as the coordinator:
 * {@code COORDINATOR_BROKER_URL} (required), {@code COORDINATOR_BROKER_USER},
 * {@code COORDINATOR_BROKER_PASSWORD} (or the file {@code COORDINATOR_BROKER_PASSWORD_FILE} names),
 * {@code COORDINATOR_JMS_POOL_MAX_CONNECTIONS} and
 * {@code COORDINATOR_DEMO_AGENTS_CONCURRENCY}. Runs until the JVM is asked to stop.
 */
public final class DemoAgentsMain {

    private static final Logger LOG = LoggerFactory.getLogger(DemoAgentsMain.class);

    private DemoAgentsMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        CoordinatorSettings settings;
        try {
            settings = CoordinatorSettings.load();
            LogFormatSwitch.apply(settings.logFormat());
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        if (settings.embeddedBroker()) {
            System.err.println("COORDINATOR_BROKER_URL (coordinator.broker.url) must name the broker the coordinator uses");
            System.exit(2);
            return;
        }
        org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory connections = Messaging.agentConnectionFactory(
                settings.brokerUrl(), settings.brokerUser(), settings.brokerPassword());
        DemoAgents.Running agents = DemoAgents.start(connections, settings.demoAgentsConcurrency());
        LOG.info("Demo agents {} consuming agent.<name> on {} ({} consumers each)",
                DemoAgents.handlers().keySet(), Secrets.redactUrl(settings.brokerUrl()), settings.demoAgentsConcurrency());

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agents.close();
            connections.close();
            LOG.info("Demo agents stopped");
            stopped.countDown();
            LogManager.shutdown();
        }, "demo-agents-shutdown"));
        stopped.await();
    }
}
