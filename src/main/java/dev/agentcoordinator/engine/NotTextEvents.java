package dev.agentcoordinator.engine;

import org.apache.camel.Message;

/**
 * Events that came in a JMS message that cannot hold JSON text (a MapMessage, a StreamMessage, an ObjectMessage, one
 * without a body): what they are called, and what their dead letter keeps of them ({@link EventRoutes}). Read as text,
 * a StreamMessage or an ObjectMessage failed on every delivery and went to the broker's DLA, without a reason.
 */
final class NotTextEvents {
    private NotTextEvents() {
    }

    /** "MapMessage" and so on for a JMS message that cannot hold JSON text; null for a TextMessage or a BytesMessage. */
    static String kindOf(Message in) {
        if (!(in instanceof org.apache.camel.component.jms.JmsMessage jms) || jms.getJmsMessage() == null) {
            return null;
        }
        jakarta.jms.Message message = jms.getJmsMessage();
        if (message instanceof jakarta.jms.TextMessage || message instanceof jakarta.jms.BytesMessage) {
            return null;
        }
        return message instanceof jakarta.jms.MapMessage ? "MapMessage"
                : message instanceof jakarta.jms.StreamMessage ? "StreamMessage"
                : message instanceof jakarta.jms.ObjectMessage ? "ObjectMessage"
                : "message without a body";
    }

    /**
     * What a dead letter of a message that is not text carries: a MapMessage's map, an ObjectMessage's object (when this
     * JVM can read it), a StreamMessage's elements as a list in an ObjectMessage (Camel writes only bytes to a
     * StreamMessage); a message without a body, none.
     */
    static Object bodyOf(Message in) {
        jakarta.jms.Message message = ((org.apache.camel.component.jms.JmsMessage) in).getJmsMessage();
        try {
            if (message instanceof jakarta.jms.StreamMessage stream) {
                java.util.ArrayList<Object> elements = new java.util.ArrayList<>();
                stream.reset();
                try {
                    while (true) {
                        elements.add(stream.readObject());
                    }
                } catch (jakarta.jms.MessageEOFException end) {
                    return elements;
                }
            }
            return in.getBody();
        } catch (Exception unreadable) {
            return null;
        }
    }

    /** The JMS message type a dead letter of this kind is sent as (Camel's CamelJmsMessageType). */
    static String deadLetterType(String notTextKind) {
        return switch (notTextKind) {
            case "MapMessage" -> "Map";
            case "StreamMessage", "ObjectMessage" -> "Object";
            default -> null;
        };
    }
}
