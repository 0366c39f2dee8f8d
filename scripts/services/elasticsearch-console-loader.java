// Supplies the console that Elasticsearch 8.x prints its startup banner to.
// The server loads this class by name from lib/tools/ansi-console. The jar that
// the distribution puts there is not published as a Maven artifact, so
// scripts/services/elasticsearch compiles this file in its place. A test node
// runs without a terminal, so this returns null and the server prints no
// banner.
package org.elasticsearch.io.ansi;

import java.nio.charset.Charset;
import java.util.function.Supplier;

import org.elasticsearch.bootstrap.ConsoleLoader;

public final class AnsiConsoleLoader implements Supplier<ConsoleLoader.Console> {
    @Override
    public ConsoleLoader.Console get() {
        java.io.Console console = System.console();
        if (console == null) {
            return null;
        }
        return new ConsoleLoader.Console(System.out, () -> 80, false, Charset.defaultCharset());
    }
}
