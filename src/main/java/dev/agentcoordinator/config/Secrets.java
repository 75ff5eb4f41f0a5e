package dev.agentcoordinator.config;

import java.util.regex.Pattern;

/** Keeps credentials out of log lines and summaries. */
public final class Secrets {

    // password=… in a JDBC or broker URL query, user:password@ in a URL authority
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&;]*");
    private static final Pattern USER_INFO = Pattern.compile("(//[^/@:]+:)[^/@]*@");

    private Secrets() {
    }

    /** The URL with any password in it replaced by {@code ****}; other text is returned unchanged. */
    public static String redactUrl(String url) {
        if (url == null) {
            return null;
        }
        String redacted = PASSWORD_PARAMETER.matcher(url).replaceAll("$1****");
        return USER_INFO.matcher(redacted).replaceAll("$1****@");
    }
}
