package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentService;
import jakarta.jms.ConnectionFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The five agents of the spec (interviewer, sentinel, architect, action, strategist) with
 * deterministic handlers for every action of the example workflows: outputs depend on the input
 * only, so a demo or a test knows what to expect. A step's input may carry the demo knobs
 * {@code simulate_latency_ms}, {@code fail_until_attempt} and {@code simulate_error} (see
 * {@link DemoSupport#withDemoKnobs}).
 */
public final class DemoAgents {

    /** Consumers per agent: enough for a demo to show several executions in parallel. */
    public static final int DEFAULT_CONCURRENCY = 4;

    private DemoAgents() {
    }

    /** Agent name → action name → handler (with the demo knobs applied). */
    public static Map<String, Map<String, ActionHandler>> handlers() {
        Map<String, Map<String, ActionHandler>> agents = new LinkedHashMap<>();
        agents.put("interviewer", withKnobs(InterviewerAgent.handlers()));
        agents.put("sentinel", withKnobs(SentinelAgent.handlers()));
        agents.put("architect", withKnobs(ArchitectAgent.handlers()));
        agents.put("action", withKnobs(ActionAgent.handlers()));
        agents.put("strategist", withKnobs(StrategistAgent.handlers()));
        return agents;
    }

    public static Running start(ConnectionFactory connectionFactory) {
        return start(connectionFactory, DEFAULT_CONCURRENCY);
    }

    /** Starts one {@link AgentService} per agent; close the result to stop them all. */
    public static Running start(ConnectionFactory connectionFactory, int concurrencyPerAgent) {
        List<AgentService> services = new ArrayList<>();
        try {
            handlers().forEach((agent, actions) -> {
                AgentService.Builder builder = AgentService.builder(connectionFactory, agent).concurrency(concurrencyPerAgent);
                actions.forEach(builder::handle);
                services.add(builder.start());
            });
        } catch (RuntimeException e) {
            new Running(services).close();
            throw e;
        }
        return new Running(services);
    }

    /** The running demo agents. */
    public static final class Running implements AutoCloseable {

        private final List<AgentService> services;

        private Running(List<AgentService> services) {
            this.services = List.copyOf(services);
        }

        public List<AgentService> services() {
            return services;
        }

        /** Closes every agent gracefully (each finishes its in-flight requests), all at the same time. */
        @Override
        public void close() {
            List<Thread> closers = services.stream()
                    .map(service -> new Thread(service::close, "close-agent-" + service.agentName()))
                    .toList();
            closers.forEach(Thread::start);
            for (Thread closer : closers) {
                try {
                    closer.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static Map<String, ActionHandler> withKnobs(Map<String, ActionHandler> actions) {
        Map<String, ActionHandler> wrapped = new TreeMap<>();
        actions.forEach((action, handler) -> wrapped.put(action, DemoSupport.withDemoKnobs(handler)));
        return wrapped;
    }
}
