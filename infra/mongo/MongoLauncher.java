import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;
import org.h2.mvstore.MVStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * Runs mongo-java-server with its H2 (MVStore) backend on a chosen address, file-backed so data
 * survives a restart. The published H2MongoServer main binds localhost:27017 only; tests need their
 * own instances on other ports and data folders.
 *
 * Usage: java -cp 'JARS/*:CLASSES' MongoLauncher HOST PORT DATA_FILE [AUTOCOMMIT_DELAY_MS]
 * Every write command is committed to the store file before it is acknowledged, so a crashed
 * (SIGKILL) server loses nothing it acknowledged; SIGTERM closes the listener, then the store.
 */
public final class MongoLauncher {
    private MongoLauncher() {}

    /** Commands that change data or indexes: committed to the file before the reply. */
    private static final Set<String> WRITES = Set.of(
            "insert", "update", "delete", "findandmodify", "createindexes", "dropindexes",
            "drop", "dropdatabase", "create", "renamecollection");

    /** The H2 backend, committing each write before its acknowledgement leaves the server. */
    static final class DurableH2Backend extends H2Backend {
        DurableH2Backend(MVStore store) {
            super(store);
        }

        @Override
        public Document handleCommand(Channel channel, String database, String command, Document query) {
            Document reply = super.handleCommand(channel, database, command, query);
            if (WRITES.contains(command.toLowerCase(java.util.Locale.ROOT))) {
                commit();
            }
            return reply;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: MongoLauncher HOST PORT DATA_FILE [AUTOCOMMIT_DELAY_MS]");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        Path dataFile = Path.of(args[2]).toAbsolutePath();
        int autoCommitDelayMs = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
        Files.createDirectories(dataFile.getParent());

        MVStore store = new MVStore.Builder()
                .fileName(dataFile.toString())
                .open();
        store.setAutoCommitDelay(autoCommitDelayMs);
        H2Backend backend = new DurableH2Backend(store);
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        System.out.println("mongo-java-server listening on " + host + ":" + port + " data " + dataFile);
        System.out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            backend.close();
            System.out.println("mongo-java-server stopped");
            System.out.flush();
            stopped.countDown();
        }, "mongo-launcher-shutdown"));
        stopped.await();
    }
}
