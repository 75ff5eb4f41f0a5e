package dev.agentcoordinator.infra;

import org.springframework.jdbc.datasource.DelegatingDataSource;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** A pool that hands out a connection only once {@link #check} lets it (which may wait, or refuse by throwing). */
abstract class CheckedDataSource extends DelegatingDataSource {

    CheckedDataSource(DataSource pool) {
        super(pool);
    }

    /** Before each connection is handed out. */
    abstract void check() throws SQLException;

    @Override
    public Connection getConnection() throws SQLException {
        check();
        return super.getConnection();
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        check();
        return super.getConnection(username, password);
    }
}
