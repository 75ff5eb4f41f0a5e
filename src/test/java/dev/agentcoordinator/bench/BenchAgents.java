package dev.agentcoordinator.bench;

import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;
import dev.agentcoordinator.agent.AgentService;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Session;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The benchmark's agents, built with the agent SDK and running in the harness JVM:
 * <ul>
 *   <li>the four no-op agents of the interview shape, answering at once with small outputs (and
 *       {@code needs_adjustment: true}, so all six steps run); they count requests and feed the {@link StepClock};</li>
 *   <li>three agents that take 300 ms (fan-out);</li>
 *   <li>a silent agent that takes requests off its queue and never replies (waiting).</li>
 * </ul>
 */
final class BenchAgents implements AutoCloseable {
    static final int NO_OP_CONCURRENCY = 4;
    static final int SLOW_CONCURRENCY = 8;
    static final long SLOW_MILLIS = 300;

    final StepClock clock = new StepClock();
    final AtomicLong handled = new AtomicLong();
    final AtomicLong silentlyTaken = new AtomicLong();
    /** Called when the last step of an interview-shaped execution is handled (closed-loop load). */
    volatile Consumer<AgentRequest> onLastStep = request -> { };

    private final List<AutoCloseable> running = new ArrayList<>();

    BenchAgents(String brokerUrl) throws JMSException {
        ActiveMQConnectionFactory fast = new ActiveMQConnectionFactory(brokerUrl);
        noOp(fast, "bench-interviewer", Map.of("analyze_transcript",
                Map.of("analysis", Map.of("score", 82, "topics", List.of("java", "sql")), "feedback", "solid")));
        noOp(fast, "bench-sentinel", Map.of(
                "extract_skills_from_interview", Map.of("skills", List.of(Map.of("skill", "java", "level", 4))),
                "update_user_skills", Map.of("skills", List.of(Map.of("skill", "java", "level", 4)))));
        noOp(fast, "bench-architect", Map.of(
                "evaluate_roadmap_relevance", Map.of("needs_adjustment", true, "analysis", Map.of("gap", "sql")),
                "adjust_roadmap", Map.of("changes", List.of("add sql module"), "adjustment_id", "adj-1")));
        noOp(fast, "bench-action", Map.of("send_interview_summary", Map.of("sent", true)));

        // no prefetch for slow agents, so requests spread over the idle consumers
        ActiveMQConnectionFactory fair = AgentService.artemisConnectionFactory(brokerUrl);
        for (String agent : List.of("bench-slow-a", "bench-slow-b", "bench-slow-c")) {
            running.add(AgentService.builder(fair, agent).concurrency(SLOW_CONCURRENCY).handle("work", request -> {
                Thread.sleep(SLOW_MILLIS);
                return AgentReply.ok(Map.of("value", agent));
            }).start());
        }
        silent(fast, "bench-silent");
    }

    private void noOp(ActiveMQConnectionFactory factory, String agent, Map<String, Map<String, ?>> outputs) {
        AgentService.Builder builder = AgentService.builder(factory, agent).concurrency(NO_OP_CONCURRENCY);
        outputs.forEach((action, output) -> builder.handle(action, request -> {
            int step = StepClock.indexOf(request.stepId());
            clock.received(request.executionId(), step);
            handled.incrementAndGet();
            if (step == StepClock.STEPS.size() - 1) {
                onLastStep.accept(request);
            }
            clock.replied(request.executionId(), step);
            return AgentReply.ok(output);
        }));
        running.add(builder.start());
    }

    /** Acknowledges every request and never answers: the step stays running until its timeout. */
    private void silent(ActiveMQConnectionFactory factory, String agent) throws JMSException {
        Connection connection = factory.createConnection();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        session.createConsumer(session.createQueue(AgentService.queueName(agent)))
                .setMessageListener(message -> silentlyTaken.incrementAndGet());
        connection.start();
        running.add(connection);
    }

    @Override
    public void close() {
        onLastStep = request -> { };
        for (AutoCloseable agent : running) {
            try {
                agent.close();
            } catch (Exception e) {
                System.err.println("closing a benchmark agent failed: " + e);
            }
        }
    }
}
