package dev.agentcoordinator.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JsonBodyByDefaultTest {
    @Test
    void noTypePlainTextAndAFormAreReadAsJsonWithTheirParameters() {
        assertThat(JsonBodyByDefault.asJson(null)).isEqualTo("application/json");
        assertThat(JsonBodyByDefault.asJson(" ")).isEqualTo("application/json");
        assertThat(JsonBodyByDefault.asJson("text/plain")).isEqualTo("application/json");
        assertThat(JsonBodyByDefault.asJson("text/plain;charset=UTF-8")).isEqualTo("application/json;charset=UTF-8");
        assertThat(JsonBodyByDefault.asJson("application/x-www-form-urlencoded; charset=\"utf-8\""))
                .isEqualTo("application/json; charset=\"utf-8\"");
        assertThat(JsonBodyByDefault.asJson("text/plain; charset=ISO-8859-1"))
                .as("left as it came: its 415 quotes what the client sent").isNull();
    }

    @Test
    void otherTypesStayAsTheyCame() {
        assertThat(JsonBodyByDefault.asJson("application/json")).isNull();
        assertThat(JsonBodyByDefault.asJson("multipart/form-data; boundary=x")).isNull();
        assertThat(JsonBodyByDefault.asJson("text/plainer")).isNull();
        assertThat(JsonBodyByDefault.asJson("application/xml")).isNull();
    }
}
