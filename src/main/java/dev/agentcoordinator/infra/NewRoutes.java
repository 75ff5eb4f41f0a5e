package dev.agentcoordinator.infra;

import org.apache.camel.CamelContext;
import org.apache.camel.FailedToStartRouteException;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ModelLifecycleStrategy;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.model.RouteDefinitionHelper;
import org.apache.camel.spi.OnCamelContextEvent;
import org.apache.camel.support.LifecycleStrategySupport;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Adds a builder's routes to a Camel context in time proportional to the routes added, whatever the number of
 * routes the context has already: what {@code CamelContext.addRoutes} does, less two costs that grow with both.
 *
 * <ul>
 *   <li>Camel's {@code DefaultModel.addRouteDefinitions} first "removes" every route it adds, by id, so that a route
 *       added again replaces the one of the same id: {@code stopRoute(id)} and {@code removeRoute(id)} for each.
 *       {@code AbstractCamelContext.removeRoute} gathers the endpoints of <em>every</em> route in the context
 *       ({@code RouteService.gatherEndpoints}, which walks each route's processors) before it looks whether the
 *       route exists at all. Adding k routes beside R existing ones cost k times a walk of all R routes: the 600
 *       or so routes of a 150-step workflow, beside the 1,500 of some 30 workflows, took most of a minute, all of
 *       it in removing routes that did not exist. Here only the routes whose id is taken already are removed
 *       first (Camel's replacement, as before); the others are appended to the model's definitions, as the model
 *       would append them.</li>
 *   <li>{@code DefaultCamelContext.startRouteDefinitions(list)} checks, for each route of the list, that none of
 *       its node ids is one of the other routes' in the list, gathering them all again each time: quadratic in the
 *       routes added at once. Here the ids of the batch are checked once (the same rule: custom ids, not those of
 *       abstract nodes, unique across the routes added together), and the routes started a few dozen at a time
 *       ({@link #START_AT_ONCE}).</li>
 * </ul>
 *
 * <p>A builder with REST definitions, route templates or templated routes is added as Camel adds it (its routes
 * may be inlined into REST routes, which only the model does). A route that fails to start takes the routes of its
 * batch with it: none of them stays, started or not, so adding them again later starts from nothing.
 */
public final class NewRoutes {
    /**
     * How many routes one {@code startRouteDefinitions} call starts: each call checks every route's node ids against
     * the others' of its list (k * k / n route walks for k routes in lists of n) and gathers the ids of all the context's
     * route definitions (R * k / n); a few dozen keeps both small beside the routes' own making.
     */
    static final int START_AT_ONCE = 25;

    private NewRoutes() {
    }

    /** Adds and starts (when the context has started, or is started later with the others) the routes of {@code builder}. */
    public static void add(CamelContext context, RouteBuilder builder) throws Exception {
        ClassLoader callers = Thread.currentThread().getContextClassLoader();
        ClassLoader application = context.getApplicationContextClassLoader();
        if (application != null) {   // as CamelContext.addRoutes: the application's class loader while routes are made
            Thread.currentThread().setContextClassLoader(application);
        }
        try {
            builder.prepareModel(context);   // configure(): the builder's definitions, as addRoutesToCamelContext makes them
            Model model = context.getCamelContextExtension().getContextPlugin(Model.class);
            List<RouteDefinition> definitions = builder.getRouteCollection().getRoutes();
            builder.getRouteCollection().setCamelContext(context);
            if (builder.getResource() != null) {
                builder.getRouteCollection().setResource(builder.getResource());
            }
            if (!builder.getRestCollection().getRests().isEmpty()
                    || !builder.getRouteTemplateCollection().getRouteTemplates().isEmpty()
                    || !builder.getTemplatedRouteCollection().getTemplatedRoutes().isEmpty()) {
                model.addRouteDefinitions(definitions);   // Camel's way, inlining into REST routes included
                startUnlessTheModelDid(context, definitions);
            } else {
                addNew(context, model, definitions);
            }
            if (builder instanceof OnCamelContextEvent listener) {
                context.addLifecycleStrategy(LifecycleStrategySupport.adapt(listener));
            }
        } finally {
            Thread.currentThread().setContextClassLoader(callers);
        }
    }

    /** The model starts what it adds to a context that has started; what is added before, the caller starts. */
    private static void startUnlessTheModelDid(CamelContext context, List<RouteDefinition> definitions) throws Exception {
        if (!(context.isStarted() && !context.isStarting())) {
            ((ModelCamelContext) context).startRouteDefinitions(definitions);
        }
    }

    private static void addNew(CamelContext context, Model model, List<RouteDefinition> all) throws Exception {
        Function<RouteDefinition, Boolean> filter = model.getRouteFilter();
        List<RouteDefinition> definitions = filter == null ? List.copyOf(all)
                : all.stream().filter(definition -> Boolean.TRUE.equals(filter.apply(definition))).toList();
        if (definitions.isEmpty()) {
            return;
        }
        refuseDuplicateNodeIds(definitions);
        // the model's lock first, then the context's: the order Camel takes them in (DefaultCamelContext.removeRoute)
        synchronized (model) {
            Set<String> taken = new HashSet<>();
            context.getRoutes().forEach(route -> taken.add(route.getRouteId()));
            model.getRouteDefinitions().forEach(definition -> taken.add(definition.getId()));
            List<RouteDefinition> replacing = definitions.stream()
                    .filter(definition -> definition.getId() != null && taken.contains(definition.getId())).toList();
            if (!replacing.isEmpty()) {
                model.removeRouteDefinitions(replacing);   // a route added again replaces its namesake, as with addRoutes
            }
            for (RouteDefinition definition : definitions) {
                for (ModelLifecycleStrategy strategy : model.getModelLifecycleStrategies()) {
                    strategy.onAddRouteDefinition(definition);
                }
                // the model's own list (DefaultModel.addRouteDefinitions appends to it, DefaultCamelContext removes from it)
                model.getRouteDefinitions().add(definition);
            }
            try {
                // a few at a time: Camel checks each route's node ids against all the others' in the list it
                // starts (quadratic in the list), and gathers the ids of every route in the context once per list
                for (int from = 0; from < definitions.size(); from += START_AT_ONCE) {
                    ((ModelCamelContext) context).startRouteDefinitions(
                            new ArrayList<>(definitions.subList(from, Math.min(definitions.size(), from + START_AT_ONCE))));
                }
            } catch (Exception | Error e) {
                try {
                    model.removeRouteDefinitions(definitions);   // stops and removes those that started, drops the others
                } catch (Exception | Error removal) {
                    e.addSuppressed(removal);
                }
                throw e;
            }
        }
    }

    /**
     * Refuses a batch in which two routes share a node id (custom, of a node that is not abstract), or one route has
     * it twice: the rule of Camel's {@code RouteDefinitionHelper.validateUniqueIds}, with its message, in one pass
     * over the batch (a route with a node prefix id is checked by Camel's own).
     */
    static void refuseDuplicateNodeIds(List<RouteDefinition> definitions) throws FailedToStartRouteException {
        Set<String> ids = new HashSet<>();
        for (RouteDefinition definition : definitions) {
            String duplicate = null;
            if (definition.getNodePrefixId() != null) {
                duplicate = RouteDefinitionHelper.validateUniqueIds(definition, definitions, definition.getNodePrefixId());
            } else {
                for (String id : ProcessorDefinitionHelper.gatherAllNodeIds(definition, new ArrayList<>(), true, false)) {
                    if (!ids.add(id)) {
                        duplicate = id;
                        break;
                    }
                }
            }
            if (duplicate != null) {
                throw new FailedToStartRouteException(definition.getId(),
                        "Duplicate id detected: " + duplicate + ". Please correct ids to be unique among all your routes.");
            }
        }
    }
}
