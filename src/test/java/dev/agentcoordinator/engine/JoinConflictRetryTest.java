package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.OptimisticLockingAggregationRepository;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The fan-in aggregator's retry after an optimistic-lock conflict, with the policy the coordinator
 * uses: the retry runs on the arriving message's own thread, and a database error during the retry
 * fails that message (so its JMS transaction rolls back and the broker redelivers it) instead of
 * leaving the consumer thread waiting for a completion that never comes.
 */
class JoinConflictRetryTest {
    private final ConflictThenFailure repository = new ConflictThenFailure();
    private CamelContext camel;
    private ProducerTemplate template;

    @BeforeEach
    void start() throws Exception {
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:arrive")
                        .aggregate(constant("execution-1:report"), new JoinArrivals())
                            .aggregationRepository(repository)
                            .optimisticLocking()
                            .optimisticLockRetryPolicy(FanInRoutes.joinConflictRetries())
                            .completionSize(3)
                            .to("log:joined");
            }
        });
        camel.start();
        template = camel.createProducerTemplate();
    }

    @AfterEach
    void stop() {
        camel.stop();
    }

    @Test
    void aDatabaseErrorWhileRetryingAConflictFailsTheArrivalOnItsOwnThread() {
        Exchange arrival = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> template.send("direct:arrive", e -> e.getMessage().setHeader(Headers.STEP_ID, "a")));

        assertThat(arrival.getException()).as("the arrival's outcome").isNotNull()
                .hasMessage("database restarting");
        assertThat(repository.addAttempts).hasValue(2);
        assertThat(Set.copyOf(repository.threads)).as("threads that tried to add to the join").hasSize(1);
    }

    @Test
    void conflictsThatNeverEndGiveUpAfterTheRetryLimit() {
        repository.conflictsBeforeFailure = Integer.MAX_VALUE;

        Exchange arrival = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> template.send("direct:arrive", e -> e.getMessage().setHeader(Headers.STEP_ID, "a")));

        assertThat(arrival.getException()).hasMessageContaining("Exhausted optimistic locking retry attempts");
        assertThat(repository.addAttempts).hasValue(FanInRoutes.JOIN_CONFLICT_RETRIES);
    }

    /** A join repository that reports lock conflicts, then fails the way a restarting database does. */
    private static final class ConflictThenFailure implements OptimisticLockingAggregationRepository {
        final AtomicInteger addAttempts = new AtomicInteger();
        final List<Thread> threads = new CopyOnWriteArrayList<>();
        volatile int conflictsBeforeFailure = 1;

        @Override
        public Exchange add(CamelContext camelContext, String key, Exchange oldExchange, Exchange newExchange) {
            threads.add(Thread.currentThread());
            if (addAttempts.incrementAndGet() <= conflictsBeforeFailure) {
                throw new OptimisticLockingException();
            }
            throw new IllegalStateException("database restarting");
        }

        @Override
        public void remove(CamelContext camelContext, String key, Exchange exchange) {
        }

        @Override
        public Exchange add(CamelContext camelContext, String key, Exchange exchange) {
            throw new UnsupportedOperationException("optimistic locking adds with the previous exchange");
        }

        @Override
        public Exchange get(CamelContext camelContext, String key) {
            return null;
        }

        @Override
        public void confirm(CamelContext camelContext, String exchangeId) {
        }

        @Override
        public Set<String> getKeys() {
            return Set.of();
        }
    }
}
