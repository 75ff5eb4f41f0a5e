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
        assertThat(JsonBodyByDefault.asJson("application/x-www-form-urlencoded; charset=ISO-8859-1"))
                .as("the charset stays, for the encoding guard to refuse").isEqualTo("application/json; charset=ISO-8859-1");
    }

    @Test
    void otherTypesStayAsTheyCame() {
        assertThat(JsonBodyByDefault.asJson("application/json")).isNull();
        assertThat(JsonBodyByDefault.asJson("multipart/form-data; boundary=x")).isNull();
        assertThat(JsonBodyByDefault.asJson("text/plainer")).isNull();
        assertThat(JsonBodyByDefault.asJson("application/xml")).isNull();
    }
}
