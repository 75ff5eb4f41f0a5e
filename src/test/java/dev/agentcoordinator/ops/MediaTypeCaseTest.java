package dev.agentcoordinator.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MediaTypeCaseTest {

    @Test
    void lowersEachTypeAndSubtypeAndLeavesTheParametersAsTheyCame() {
        assertThat(MediaTypeCase.lowerMediaTypes("APPLICATION/JSON")).isEqualTo("application/json");
        assertThat(MediaTypeCase.lowerMediaTypes("Application/Json; Charset=UTF-8")).isEqualTo("application/json; Charset=UTF-8");
        assertThat(MediaTypeCase.lowerMediaTypes("TEXT/HTML;q=0.9, Application/*;Q=0.5, */*"))
                .isEqualTo("text/html;q=0.9, application/*;Q=0.5, */*");
    }

    @Test
    void aQuotedParameterValueHoldingACommaOrASemicolonStaysWhole() {
        assertThat(MediaTypeCase.lowerMediaTypes("Text/Plain; Note=\"A,B;C\", APPLICATION/JSON"))
                .isEqualTo("text/plain; Note=\"A,B;C\", application/json");
    }
}
