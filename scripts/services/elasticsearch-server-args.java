// Writes the serialized org.elasticsearch.bootstrap.ServerArgs that the
// Elasticsearch 8.x server process reads from its standard input at startup.
// The distribution's server-cli normally writes these bytes. The CLI is not
// published as a Maven artifact, so scripts/services/elasticsearch compiles
// this file against the server jars and runs it before each start.
//
// Usage: ServerArgsWriter OUTPUT_FILE CONFIG_DIR LOGS_DIR PID_FILE [KEY=VALUE ...]
// Each KEY=VALUE becomes a node setting, as `-E KEY=VALUE` does for the CLI.

import java.io.FileOutputStream;
import java.io.OutputStream;
import java.lang.reflect.Constructor;
import java.nio.file.Path;

import org.elasticsearch.bootstrap.ServerArgs;
import org.elasticsearch.common.io.stream.OutputStreamStreamOutput;
import org.elasticsearch.common.settings.KeyStoreWrapper;
import org.elasticsearch.common.settings.SecureSettings;
import org.elasticsearch.common.settings.Settings;

public final class ServerArgsWriter {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: ServerArgsWriter OUTPUT_FILE CONFIG_DIR LOGS_DIR PID_FILE [KEY=VALUE ...]");
            System.exit(2);
        }
        Path output = Path.of(args[0]);
        Path configDir = Path.of(args[1]).toAbsolutePath();
        Path logsDir = Path.of(args[2]).toAbsolutePath();
        Path pidFile = Path.of(args[3]).toAbsolutePath();

        Settings.Builder settings = Settings.builder();
        for (int i = 4; i < args.length; i++) {
            int separator = args[i].indexOf('=');
            if (separator <= 0) {
                System.err.println("invalid setting \"" + args[i] + "\": expected KEY=VALUE");
                System.exit(2);
            }
            settings.put(args[i].substring(0, separator), args[i].substring(separator + 1));
        }

        // An empty, unprotected keystore: the test node has no secure settings.
        KeyStoreWrapper keystore = KeyStoreWrapper.create();

        ServerArgs serverArgs = newServerArgs(pidFile, keystore, settings.build(), configDir, logsDir);
        try (OutputStream file = new FileOutputStream(output.toFile());
             OutputStreamStreamOutput out = new OutputStreamStreamOutput(file)) {
            serverArgs.writeTo(out);
        }
    }

    // Calls the ServerArgs constructor of the server version on the class
    // path, chosen by parameter count: 8.8.2 takes (daemonize, quiet, pidFile,
    // secrets, nodeSettings, configDir) and 8.17.0 adds logsDir.
    private static ServerArgs newServerArgs(Path pidFile, SecureSettings secrets, Settings settings, Path configDir, Path logsDir)
        throws Exception {
        for (Constructor<?> constructor : ServerArgs.class.getConstructors()) {
            Class<?>[] types = constructor.getParameterTypes();
            if (types.length == 7 && types[4] == Settings.class) {
                return (ServerArgs) constructor.newInstance(false, false, pidFile, secrets, settings, configDir, logsDir);
            }
            if (types.length == 6 && types[4] == Settings.class) {
                return (ServerArgs) constructor.newInstance(false, false, pidFile, secrets, settings, configDir);
            }
        }
        throw new IllegalStateException("no supported ServerArgs constructor in this Elasticsearch version");
    }
}
