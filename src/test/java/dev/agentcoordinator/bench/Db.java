package dev.agentcoordinator.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The harness's own connection to the coordinator's PostgreSQL, for reading state and statistics. */
final class Db implements AutoCloseable {
    private final Connection connection;

    Db(String jdbcUrl) throws SQLException {
        this.connection = DriverManager.getConnection(jdbcUrl, "postgres", "");
    }

    synchronized long count(String sql, Object... params) {
        List<Object[]> rows = rows(sql, params);
        return rows.isEmpty() ? 0 : ((Number) rows.get(0)[0]).longValue();
    }

    synchronized List<Object[]> rows(String sql, Object... params) {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                if (params[i] instanceof String[] array) {
                    statement.setArray(i + 1, connection.createArrayOf("varchar", array));
                } else {
                    statement.setObject(i + 1, params[i]);
                }
            }
            try (ResultSet rs = statement.executeQuery()) {
                int columns = rs.getMetaData().getColumnCount();
                List<Object[]> rows = new ArrayList<>();
                while (rs.next()) {
                    Object[] row = new Object[columns];
                    for (int c = 0; c < columns; c++) {
                        row[c] = rs.getObject(c + 1);
                    }
                    rows.add(row);
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("benchmark query failed: " + sql, e);
        }
    }

    synchronized void execute(String sql) {
        try (var statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("benchmark statement failed: " + sql, e);
        }
    }

    /** Committed transactions of the database so far (pg_stat_database; flushed about once a second). */
    long committedTransactions() {
        return count("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    }

    /** Bytes of write-ahead log the server has generated so far: its write work, exactly, whatever the machine's noise. */
    long walBytes() {
        return count("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint");
    }

    /** Waits until {@code sql} counts zero, polling; false when {@code timeoutMs} passed first. */
    boolean awaitZero(String sql, long timeoutMs, Object... params) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (count(sql, params) > 0) {
            if (System.currentTimeMillis() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
