package dev.agentcoordinator.engine;

/** What to do with a step that may have become ready. */
public record StepDecision(Kind kind, String rowId, String reason, String inputJson) {

    public enum Kind {
        /** Some dependency has not settled yet: do nothing, its completion will ask again. */
        WAIT,
        /** The step was already decided (or the execution is over): do nothing. */
        NOTHING,
        /** Settle the step as skipped, with the reason. */
        SKIP,
        /** Run the step with this input. */
        DISPATCH,
        /**
         * Its dependency's completion started it in the same statement (complete-and-start.sql, on
         * facts that never change): send its request.
         */
        STARTED_WITH_DEPENDENCY,
        /**
         * The step already runs: send its request again only if this very message started the
         * attempt (the row's dispatched_by) and it still runs, i.e. an earlier delivery of it died
         * before its transaction, and the request with it, committed.
         */
        RESEND_IF_STARTED_BY_THIS_MESSAGE,
        /**
         * The step was already skipped or failed: visit its dependents again, as settling it did. It
         * has no message of its own whose redelivery would; when the message that settled it died
         * before its transaction committed, its redelivery walks through here to the steps it started
         * (whose requests died with it) and to those it never reached.
         */
        PASS_ON,
        /**
         * The step already completed (its own message walked on from it then): only check whether the
         * execution is over. A retried execution's reset steps reach it so; their walk stopped there, and
         * the execution stayed running with every step settled. Its dependents need no visit: the retry
         * starts those it reset itself, and any other waits for a reset dependency.
         */
        FINISH_IF_OVER
    }

    public static StepDecision finishIfOver(String rowId) {
        return new StepDecision(Kind.FINISH_IF_OVER, rowId, "step already completed", null);
    }

    public static StepDecision passOn(String rowId) {
        return new StepDecision(Kind.PASS_ON, rowId, "step already settled", null);
    }

    public static StepDecision resendIfStartedByThisMessage(String rowId) {
        return new StepDecision(Kind.RESEND_IF_STARTED_BY_THIS_MESSAGE, rowId, "step already running", null);
    }

    public static StepDecision waitFor(String reason) {
        return new StepDecision(Kind.WAIT, null, reason, null);
    }

    public static StepDecision nothing(String reason) {
        return new StepDecision(Kind.NOTHING, null, reason, null);
    }

    public static StepDecision skip(String rowId, String reason) {
        return new StepDecision(Kind.SKIP, rowId, reason, null);
    }

    public static StepDecision dispatch(String rowId, String inputJson) {
        return new StepDecision(Kind.DISPATCH, rowId, null, inputJson);
    }
}
