package dev.agentcoordinator.ops;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Reads from the operations test coordinator's database. */
final class OpsDb {
    private OpsDb() {
    }

    /** The first column of the first row, as text; null when there is no row. */
    static String text(String sql, Object... params) {
        try (Connection connection = OpsCoordinator.shared().dataSource().getConnection();
             PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
