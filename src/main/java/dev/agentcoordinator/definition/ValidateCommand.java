package dev.agentcoordinator.definition;

import dev.agentcoordinator.config.CoordinatorSettings;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Checks workflow definitions without starting anything ({@code ./coordinator validate}). The argument is a folder or a
 * single file; without one, the folder the coordinator would load: {@code coordinator.workflows.dir} as the coordinator
 * resolves it (-D, COORDINATOR_WORKFLOWS_DIR, {@code --config FILE} or ./coordinator.properties; default
 * {@value #DEFAULT_FOLDER}). The settings are loaded and checked first, as a start does: a misspelt or invalid one is
 * refused with the start's message, since a misspelt {@code coordinator.workflows.dir} would otherwise have the default
 * folder checked instead of the one meant. Exit code 0 when valid, 1 when not or when there is no definition there, 2
 * for a wrong use or an invalid configuration (as the coordinator's).
 */
public final class ValidateCommand {
    public static final String DEFAULT_FOLDER = "routes/workflows";
    private static final String USAGE = "usage: validate [--config FILE] [FOLDER-OR-FILE]   (default: coordinator.workflows.dir, "
            + DEFAULT_FOLDER + " unless set)";

    private ValidateCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Validates and prints the outcome; returns the exit code instead of exiting (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path configFile = null;
        String named = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                out.println(USAGE);
                return 0;
            } else if (args[i].equals("--config")) {
                if (i + 1 >= args.length) {
                    err.println("--config needs a file name\n" + USAGE);
                    return 2;
                }
                if (configFile != null) {   // as the coordinator refuses it
                    err.println(CoordinatorSettings.configGivenTwice(configFile, args[i + 1]) + "\n" + USAGE);
                    return 2;
                }
                configFile = Path.of(args[++i]);
            } else if (args[i].startsWith("-") || args[i].isBlank() || named != null) {
                err.println((args[i].isBlank() ? "an empty folder name" : "unknown argument: " + args[i]) + "\n" + USAGE);
                return 2;
            } else {
                named = args[i];
            }
        }
        CoordinatorSettings settings;
        try {   // as CoordinatorApp loads them: the same messages, the same exit status
            settings = CoordinatorSettings.load(configFile);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        }
        Path target = named != null ? Path.of(named) : settings.workflowsDir();
        try {
            WorkflowCatalog catalog = Files.isRegularFile(target)
                    ? WorkflowCatalog.load(List.of(target))
                    : WorkflowCatalog.load(target);
            if (catalog.all().isEmpty()) {   // a mistyped folder would pass otherwise
                err.println(target + ": no workflow definition (.yaml, .yml or .json) there");
                catalog.warnings().forEach(warning -> err.println("  warning: " + warning));
                return 1;
            }
            String ids = catalog.all().stream().map(WorkflowDefinition::id).collect(Collectors.joining(", "));
            out.println("OK: " + catalog.all().size() + " workflow(s) valid in " + target + ": " + ids);
            catalog.warnings().forEach(warning -> out.println("  warning: " + warning));
            return 0;
        } catch (InvalidDefinitionsException e) {
            err.println(e.getMessage());
            return 1;
        }
    }
}
