package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.OptimisticLockingAggregationRepository.OptimisticLockingException;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The fan-in's repository on the real step_joins table: a first arrival is a lone insert, a racing one a lock conflict. */
class JoinRepositoryTest {
    private static CamelContext camel;
    private static JoinRepository repository;

    @BeforeAll
    static void start() throws Exception {
        camel = new DefaultCamelContext();
        camel.start();
        repository = new JoinRepository(TestCoordinator.shared().dataSource(), FanInRoutes.REPOSITORY);
        repository.start();
    }

    @AfterAll
    static void stop() {
        repository.stop();
        camel.stop();
    }

    private static Exchange arrival(String from) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader(Headers.STEP_ID, from);
        return exchange;
    }

    @Test
    void aSecondFirstArrivalForTheSameJoinIsAnOptimisticLockConflictAndALaterOneAnUpdate() throws Exception {
        String key = UUID.randomUUID() + ":join";
        repository.add(camel, key, null, arrival("a"));

        assertThatThrownBy(() -> repository.add(camel, key, null, arrival("b")))
                .isInstanceOf(OptimisticLockingException.class);

        // the retry, as the aggregator makes it: the join read again, the arrival aggregated into it (JoinArrivals)
        Exchange stored = repository.get(camel, key);
        assertThat(stored.getMessage().getHeader(Headers.STEP_ID)).isEqualTo("a");
        Exchange joined = new JoinArrivals().aggregate(stored, arrival("b"));
        repository.add(camel, key, stored, joined);
        assertThat(repository.get(camel, key).getMessage().getHeader(JoinArrivals.ARRIVED)).isEqualTo("b");
        Exchange complete = repository.get(camel, key);
        repository.remove(camel, key, complete);
        assertThat(repository.get(camel, key)).isNull();
        // completed and not yet confirmed: another coordinator's recovery leaves it to the one running it, for a while
        assertThat(repository.scan(camel)).doesNotContain(complete.getExchangeId());
        TestCoordinator.query("UPDATE step_joins_completed SET completed_at = now() - interval '11 seconds' WHERE id = ? RETURNING id",
                complete.getExchangeId());
        assertThat(repository.scan(camel)).contains(complete.getExchangeId());
        // confirmed, as the aggregator confirms a join it completed: nothing is left for the recovery task
        repository.confirm(camel, complete.getExchangeId());
        assertThat(repository.scan(camel)).doesNotContain(complete.getExchangeId());
    }

    @Test
    void theSecondOfTwoArrivalsCompletingOneJoinAtOnceIsAnOptimisticLockConflict() throws Exception {
        String key = UUID.randomUUID() + ":join";
        repository.add(camel, key, null, arrival("a"));
        // two replies read the same join, and each finds every dependency settled
        Exchange readByOne = repository.get(camel, key);
        Exchange readByOther = repository.get(camel, key);

        repository.remove(camel, key, readByOne);
        assertThatThrownBy(() -> repository.remove(camel, key, readByOther))
                .isInstanceOf(OptimisticLockingException.class);

        assertThat(repository.get(camel, key)).isNull();
        assertThat(TestCoordinator.query("SELECT count(*) AS n FROM step_joins_completed WHERE id = ?", readByOne.getExchangeId()))
                .extracting(row -> ((Number) row.get("n")).intValue()).containsExactly(1);
        repository.confirm(camel, readByOne.getExchangeId());
    }
}
