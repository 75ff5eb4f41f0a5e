package dev.agentcoordinator.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AcceptHeaderTest {

    @Test
    void theMostSpecificRangeMatchingTheTypeDecides() {
        assertThat(AcceptHeader.takes("text/plain;q=0, */*", "text/plain")).isFalse();
        assertThat(AcceptHeader.refuses("text/plain;q=0, */*", "text/plain")).isTrue();
        assertThat(AcceptHeader.takes("*/*;q=0, text/plain;q=0.1", "text/plain")).isTrue();
        assertThat(AcceptHeader.takes("text/*;q=0.000, text/plain;version=0.0.4", "text/plain")).isTrue();
        assertThat(AcceptHeader.refuses("text/*;Q=0.0, application/json", "text/plain")).isTrue();
    }

    @Test
    void aTypeNoRangeMatchesIsNeitherTakenNorRefused() {
        assertThat(AcceptHeader.takes("application/json", "text/plain")).isFalse();
        assertThat(AcceptHeader.refuses("application/json", "text/plain")).isFalse();
    }

    @Test
    void theSameRangeGivenTwiceIsTakenWhenOneOfThemTakesIt() {
        assertThat(AcceptHeader.takes("*/*;q=0, */*;q=0.5", "application/json")).isTrue();
    }

    @Test
    void theMetricsPathAnswersTheFormatTheHeaderTakes() {
        assertThat(PrometheusAccept.normalised("*/*;q=0")).isNull();
        assertThat(PrometheusAccept.normalised("*/*")).isEqualTo(PrometheusAccept.TEXT_FORMAT);
        assertThat(PrometheusAccept.normalised("application/openmetrics-text;q=0, */*")).isEqualTo(PrometheusAccept.TEXT_FORMAT);
        assertThat(PrometheusAccept.normalised("text/*;q=0, */*")).startsWith(PrometheusAccept.OPEN_METRICS_TYPE + ", ");
        assertThat(PrometheusAccept.normalised("text/plain;\tq=0")).isNull();
        assertThat(PrometheusAccept.normalised("application/openmetrics-text;version=1.0.0"))
                .startsWith(PrometheusAccept.OPEN_METRICS_TYPE + ", ");
    }
}
