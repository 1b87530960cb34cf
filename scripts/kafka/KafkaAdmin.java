// Readiness probe and topic creation for the local broker, run with `java KafkaAdmin.java`
// (single-file source launch, no build step) against the jars scripts/kafka.sh downloaded.
//
//   KafkaAdmin wait   BOOTSTRAP TIMEOUT_S               - until the broker answers metadata requests
//   KafkaAdmin create BOOTSTRAP PARTITIONS TOPIC...     - idempotent: existing topics are kept;
//                                                         returns once every partition has a leader
//   KafkaAdmin leaders BOOTSTRAP TIMEOUT_S TOPIC...     - until every partition of TOPIC... has a leader
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.errors.TopicExistsException;

public class KafkaAdmin {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) { usage(); }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        try (Admin admin = Admin.create(props)) {
            switch (args[0]) {
                case "wait" -> waitReady(admin, Integer.parseInt(args[2]));
                case "create" -> {
                    String[] topics = Arrays.copyOfRange(args, 3, args.length);
                    create(admin, Integer.parseInt(args[2]), topics);
                    waitForLeaders(admin, 60, topics);
                }
                case "leaders" -> waitForLeaders(admin, Integer.parseInt(args[2]), Arrays.copyOfRange(args, 3, args.length));
                default -> usage();
            }
        }
    }

    static void waitReady(Admin admin, int timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
        while (true) {
            try {
                int nodes = admin.describeCluster().nodes().get().size();
                if (nodes > 0) { return; }
            } catch (ExecutionException e) {
                // not up yet: retry until the deadline
            }
            if (System.nanoTime() > deadline) {
                System.err.println("kafka: broker did not answer metadata requests within " + timeoutS + " s");
                System.exit(1);
            }
            Thread.sleep(200);
        }
    }

    static void create(Admin admin, int partitions, String[] topics) throws Exception {
        List<NewTopic> wanted = new ArrayList<>();
        for (String t : topics) { wanted.add(new NewTopic(t, partitions, (short) 1)); }
        CreateTopicsResult result = admin.createTopics(wanted);
        for (var entry : result.values().entrySet()) {
            try {
                entry.getValue().get();
                System.out.println("kafka: created topic " + entry.getKey() + " (" + partitions + " partitions)");
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { throw e; }
            }
        }
    }

    // A topic answers metadata before its partitions have elected leaders; clients that
    // fetch offsets or produce in that window get NotLeaderForPartition. Callers of this
    // script (tests, the demo) may start at once after it returns.
    static void waitForLeaders(Admin admin, int timeoutS, String[] topics) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
        while (true) {
            try {
                boolean ready = true;
                for (TopicDescription d : admin.describeTopics(Arrays.asList(topics)).allTopicNames().get().values()) {
                    for (var p : d.partitions()) {
                        if (p.leader() == null || p.leader().isEmpty()) { ready = false; }
                    }
                }
                if (ready) { return; }
            } catch (ExecutionException e) {
                // metadata not ready yet: retry until the deadline
            }
            if (System.nanoTime() > deadline) {
                System.err.println("kafka: partitions without a leader after " + timeoutS + " s");
                System.exit(1);
            }
            Thread.sleep(200);
        }
    }

    static void usage() {
        System.err.println("usage: KafkaAdmin wait BOOTSTRAP TIMEOUT_S | create BOOTSTRAP PARTITIONS TOPIC... | leaders BOOTSTRAP TIMEOUT_S TOPIC...");
        System.exit(2);
    }
}
