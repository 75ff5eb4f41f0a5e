package dev.agentcoordinator.ops;

import java.util.Locale;

/**
 * Reads an HTTP {@code Accept} header as RFC 9110 (12.5.1) says: the most specific range matching a media type decides,
 * and a quality of 0 means "not acceptable" (12.4.2). Vert.x's router ignores the quality when it matches a route's
 * produced type, so the paths that must refuse a q=0 ask here first.
 */
final class AcceptHeader {
    private AcceptHeader() {
    }

    /** Whether {@code accept} takes {@code type} (type/subtype, lower case): a range matches it, the deciding one above q=0. */
    static boolean takes(String accept, String type) {
        return decidingRange(accept, type) == Decision.TAKEN;
    }

    /** Whether {@code accept} gives {@code type} (type/subtype, lower case) a quality of 0. */
    static boolean refuses(String accept, String type) {
        return decidingRange(accept, type) == Decision.REFUSED;
    }

    private enum Decision { NOT_NAMED, TAKEN, REFUSED }

    private static Decision decidingRange(String accept, String type) {
        String anySubtype = type.substring(0, type.indexOf('/')) + "/*";
        int decidingSpecificity = -1;   // of the most specific range matching type so far: 2 exact, 1 type/*, 0 */*
        boolean refused = false;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String mediaRange = parts[0].strip().toLowerCase(Locale.ROOT);
            int specificity = mediaRange.equals(type) ? 2 : mediaRange.equals(anySubtype) ? 1 : mediaRange.equals("*/*") ? 0 : -1;
            if (specificity > decidingSpecificity) {
                decidingSpecificity = specificity;
                refused = qualityZero(parts);
            } else if (specificity >= 0 && specificity == decidingSpecificity) {
                refused &= qualityZero(parts);   // the same range given twice: one that accepts is enough
            }
        }
        return decidingSpecificity < 0 ? Decision.NOT_NAMED : refused ? Decision.REFUSED : Decision.TAKEN;
    }

    private static boolean qualityZero(String[] parts) {
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].replace(" ", "").replace("\t", "").toLowerCase(Locale.ROOT);   // OWS: spaces and tabs
            if (parameter.matches("q=0(\\.0{0,3})?")) {
                return true;
            }
        }
        return false;
    }
}
