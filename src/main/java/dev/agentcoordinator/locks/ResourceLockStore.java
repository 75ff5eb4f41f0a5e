package dev.agentcoordinator.locks;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.engine.Json;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

/**
 * Resource locks in table {@code resource_locks} (spec: Conflict Resolution, acquireResourceLock done
 * without its check-then-insert race). Whether a lock is taken is decided by one SQL statement
 * (acquire-lock.sql), so any number of threads and coordinator instances may compete.
 */
public final class ResourceLockStore {
    private final DataSource dataSource;

    public ResourceLockStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Tries to take one lock, in a transaction of its own. */
    public AcquireResult acquire(LockHolder holder, LockRequest request) {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            return acquire(connection, holder, request);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot acquire lock " + request.resource() + " for " + holder.describe(), e);
        }
    }

    /**
     * Tries to take one lock on the caller's connection (and transaction: rolling it back undoes the
     * acquisition and any preemption it made).
     */
    public AcquireResult acquire(Connection connection, LockHolder holder, LockRequest request) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LockSql.named("acquire-lock"))) {
            statement.setString(1, request.resourceType());
            statement.setString(2, request.resourceId());
            statement.setString(3, UUID.randomUUID().toString());
            statement.setString(4, holder.agent());
            statement.setInt(5, holder.priority());
            statement.setString(6, holder.executionId());
            statement.setString(7, holder.stepId());
            statement.setLong(8, request.ttlMs());
            try (ResultSet rs = statement.executeQuery()) {
                if (rs.next()) {
                    return new AcquireResult.Acquired(request, rs.getString("id"), instant(rs.getTimestamp("expires_at")),
                            holderOf(rs.getString("preempted")));
                }
            }
        }
        return blocked(connection, request);
    }

    /** Releases one acquisition; false when it was no longer held (expired and taken, or preempted). */
    public boolean release(String lockId) {
        return update("release-lock", lockId) > 0;
    }

    /** Releases whatever a step of an execution holds; returns how many locks that was. */
    public int releaseAll(String executionId, String stepId) {
        return update("release-step-locks", executionId, stepId);
    }

    private AcquireResult.Blocked blocked(Connection connection, LockRequest request) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LockSql.named("find-lock-holder"))) {
            statement.setString(1, request.resourceType());
            statement.setString(2, request.resourceId());
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return new AcquireResult.Blocked(request, null, null);
                }
                LockHolder holder = new LockHolder(rs.getString("locked_by"), rs.getInt("priority"),
                        rs.getString("execution_id"), rs.getString("step_id"));
                return new AcquireResult.Blocked(request, holder, instant(rs.getTimestamp("expires_at")));
            }
        }
    }

    private int update(String statementName, String... params) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(LockSql.named(statementName))) {
            connection.setAutoCommit(true);
            for (int i = 0; i < params.length; i++) {
                statement.setString(i + 1, params[i]);
            }
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("statement " + statementName + " failed", e);
        }
    }

    private static LockHolder holderOf(String json) {
        if (json == null) {
            return null;
        }
        JsonNode node = Json.parse(json);
        return new LockHolder(node.path("locked_by").asText(), node.path("priority").asInt(),
                node.path("execution_id").asText(""), node.path("step_id").asText(""));
    }

    private static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
