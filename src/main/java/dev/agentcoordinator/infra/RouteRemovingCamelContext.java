package dev.agentcoordinator.infra;

import org.apache.camel.Endpoint;
import org.apache.camel.LoggingLevel;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.impl.engine.DefaultRouteError;
import org.apache.camel.impl.engine.RouteService;
import org.apache.camel.model.Model;
import org.apache.camel.model.ModelLifecycleStrategy;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.RouteError;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Camel's context, able to remove many routes in time proportional to the routes it has, not to their product.
 *
 * <p>{@code AbstractCamelContext.removeRoute(id)} gathers the endpoints of <em>every</em> route in the context
 * ({@code RouteService.gatherEndpoints}, a walk of each route's services) to find those only the removed route
 * used, and {@code DefaultCamelContext} does it twice, once more while it drops the route's definition from the
 * model. Removing the k routes of a workflow version beside R others cost 2k walks of R routes: 28 s for the 150
 * routes of a 50-step workflow among 1,100, 18 minutes for 1,800 among 2,400 (BENCHMARKS.md, session 43). Here
 * the routes are stopped as before, one by one, then the endpoints of every route are gathered once, and each
 * route is shut down and removed with what only it used: the same steps as Camel's, in the same order, with the
 * same locks taken in the same order (the model's, then the context's).
 */
public class RouteRemovingCamelContext extends DefaultCamelContext {

    public RouteRemovingCamelContext(boolean init) {
        super(init);
    }

    /**
     * Stops (each waiting up to {@code timeout} for the exchanges in it) and removes the routes {@code ids}, with
     * their definitions and the endpoints no other route uses. Returns the ids of the routes removed: those that
     * existed.
     */
    public List<String> removeRoutes(Collection<String> ids, long timeout, TimeUnit unit) throws Exception {
        Model model = getCamelContextExtension().getContextPlugin(Model.class);
        synchronized (model) {
            getLock().lock();
            try {
                for (String id : ids) {   // as the route controller's stopRoute, logged at DEBUG: the caller logs one line
                    if (isStopping() || isStopped()) {
                        // the routes go with the context; its shutdown waits for this removal's exchange, which would
                        // otherwise stop the routes one by one (a SIGTERM during a removal of 3,009 routes took 65 s)
                        return List.of();
                    }
                    doShutdownRoute(id, timeout, unit, false, LoggingLevel.DEBUG);
                }
                Map<String, Set<Endpoint>> endpointsOf = new HashMap<>();
                Map<Endpoint, Integer> routesUsing = new HashMap<>();
                for (Map.Entry<String, RouteService> route : getRouteServices().entrySet()) {
                    Set<Endpoint> endpoints = route.getValue().gatherEndpoints();
                    endpointsOf.put(route.getKey(), endpoints);
                    endpoints.forEach(endpoint -> routesUsing.merge(endpoint, 1, Integer::sum));
                }
                Set<String> removed = new LinkedHashSet<>();
                for (String id : ids) {
                    if (remove(id)) {
                        removed.add(id);
                        for (Endpoint endpoint : endpointsOf.remove(id)) {
                            if (routesUsing.merge(endpoint, -1, Integer::sum) <= 0) {
                                removeEndpoint(endpoint);   // no route left uses it
                            }
                        }
                    }
                }
                getCamelContextExtension().getRouteStartupOrder().removeIf(order -> removed.contains(order.getRoute().getId()));
                removeDefinitions(model, removed);
                return new ArrayList<>(removed);
            } finally {
                getLock().unlock();
            }
        }
    }

    /** Shuts down and forgets a stopped route, as {@code AbstractCamelContext.doRemove} does, but quietly. */
    private boolean remove(String id) {
        DefaultRouteError.reset(this, id);
        RouteService service = getRouteServices().get(id);
        if (service == null || !getRouteStatus(id).isStopped()) {
            return false;
        }
        try {
            service.setRemovingRoutes(true);
            shutdownRouteService(service, LoggingLevel.DEBUG);   // the caller logs one line for them all
            getRouteServices().remove(id);
            return true;
        } catch (RuntimeException e) {
            DefaultRouteError.set(this, id, RouteError.Phase.REMOVE, e);
            throw e;
        }
    }

    /** What {@code DefaultModel.removeRouteDefinition} does once the route is gone. */
    private static void removeDefinitions(Model model, Set<String> ids) throws Exception {
        List<RouteDefinition> definitions = model.getRouteDefinitions().stream()
                .filter(definition -> ids.contains(definition.getId())).toList();
        for (RouteDefinition definition : definitions) {
            for (ModelLifecycleStrategy strategy : model.getModelLifecycleStrategies()) {
                strategy.onRemoveRouteDefinition(definition);
            }
        }
        model.getRouteDefinitions().removeIf(definition -> ids.contains(definition.getId()));
    }
}
