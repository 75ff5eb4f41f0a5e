package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.NamedNode;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.spi.Policy;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;

/**
 * Runs the nodes it wraps ({@code .policy(new OneDatabaseTransaction())}) in one PostgreSQL transaction, on one pooled
 * connection: their camel-sql statements find it bound to the thread (Spring's {@code DataSourceUtils}), so a row lock
 * one of them takes is held until the last one has run, across whatever else the nodes do (a JMS send). The nodes must
 * run on the calling thread (synchronous endpoints: camel-sql, an InOnly JMS send), and take no second connection of
 * the pool (they would wait for a row their own transaction holds).
 * <p>
 * No transaction synchronization is started: a JMS send in between uses its own session as it would without the
 * transaction (Spring JMS would otherwise tie the session to the database transaction), and leaves at once.
 * <p>
 * The transaction is committed even when a node failed (the exchange carries its exception, which the route's error
 * handler deals with as before): what a failed send recorded (request-unsent.sql) stays. A statement that failed has
 * aborted the transaction, whose commit PostgreSQL then turns into a rollback.
 */
final class OneDatabaseTransaction implements Policy {

    @Override
    public void beforeWrap(Route route, NamedNode definition) {
        // nothing to change in the definition
    }

    @Override
    public Processor wrap(Route route, Processor processor) {
        DataSource dataSource = route.getCamelContext().getRegistry().findSingleByType(DataSource.class);
        if (dataSource == null) {
            throw new IllegalStateException("no single DataSource in the registry for route " + route.getRouteId());
        }
        // the same DataSource as the sql component's (the registry's only one): its statements take the bound connection
        DataSourceTransactionManager manager = new DataSourceTransactionManager(dataSource);
        manager.setTransactionSynchronization(AbstractPlatformTransactionManager.SYNCHRONIZATION_NEVER);
        TransactionTemplate template = new TransactionTemplate(manager);
        return exchange -> inTransaction(template, processor, exchange);
    }

    private static void inTransaction(TransactionTemplate template, Processor processor, Exchange exchange) {
        try {
            template.executeWithoutResult(status -> {
                try {
                    processor.process(exchange);
                } catch (Exception e) {
                    exchange.setException(e);
                }
            });
        } catch (RuntimeException e) {   // no connection to begin with, or the commit failed
            if (exchange.getException() == null) {
                exchange.setException(e);
            }
        }
    }
}
