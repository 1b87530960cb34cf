// Readiness probe and topic creation for the local broker, run with `java KafkaAdmin.java`
// (single-file source launch, no build step) against the jars scripts/kafka.sh downloaded.
//
//   KafkaAdmin wait   BOOTSTRAP TIMEOUT_S               - until the broker answers metadata requests
//   KafkaAdmin create BOOTSTRAP PARTITIONS TOPIC...     - idempotent: existing topics are kept;
//                                                         returns once every partition has a leader
//   KafkaAdmin leaders BOOTSTRAP TIMEOUT_S TOPIC...     - until every partition of TOPIC... has a leader
//   KafkaAdmin create-compacted BOOTSTRAP PARTITIONS TOPIC...
//                                                       - like create, with cleanup.policy=compact
//                                                         (sightline.erasures: latest request per key)
//
// For a replicated cluster (scripts/kafka-cluster.sh):
//   KafkaAdmin wait-nodes BOOTSTRAP NODES TIMEOUT_S     - until NODES brokers are registered
//   KafkaAdmin create-replicated BOOTSTRAP PARTITIONS RF MIN_ISR TOPIC...
//                                                       - idempotent; min.insync.replicas=MIN_ISR and
//                                                         unclean.leader.election.enable=false per topic;
//                                                         returns once every replica is in sync
//   KafkaAdmin isr BOOTSTRAP TIMEOUT_S TOPIC...         - until every partition's ISR is all its replicas
//   KafkaAdmin describe BOOTSTRAP TOPIC...              - one line per topic: partitions, replication
//                                                         factor, min ISR, unclean election, leaders per node
import java.util.*;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.common.config.ConfigResource;
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
                case "create-compacted" -> {
                    String[] topics = Arrays.copyOfRange(args, 3, args.length);
                    createCompacted(admin, Integer.parseInt(args[2]), topics);
                    waitForLeaders(admin, 60, topics);
                }
                case "leaders" -> waitForLeaders(admin, Integer.parseInt(args[2]), Arrays.copyOfRange(args, 3, args.length));
                case "wait-nodes" -> waitNodes(admin, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
                case "create-replicated" -> {
                    String[] topics = Arrays.copyOfRange(args, 5, args.length);
                    createReplicated(admin, Integer.parseInt(args[2]), Short.parseShort(args[3]), args[4], topics);
                    waitForLeaders(admin, 60, topics);
                    waitInSync(admin, 120, topics);
                }
                case "isr" -> waitInSync(admin, Integer.parseInt(args[2]), Arrays.copyOfRange(args, 3, args.length));
                case "describe" -> describe(admin, Arrays.copyOfRange(args, 2, args.length));
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

    static void createCompacted(Admin admin, int partitions, String[] topics) throws Exception {
        List<NewTopic> wanted = new ArrayList<>();
        for (String t : topics) {
            wanted.add(new NewTopic(t, partitions, (short) 1).configs(Map.of("cleanup.policy", "compact")));
        }
        for (var entry : admin.createTopics(wanted).values().entrySet()) {
            try {
                entry.getValue().get();
                System.out.println("kafka: created compacted topic " + entry.getKey() + " (" + partitions + " partitions)");
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

    static void waitNodes(Admin admin, int nodes, int timeoutS) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
        int seen = 0;
        while (true) {
            try {
                seen = admin.describeCluster().nodes().get().size();
                if (seen >= nodes) { return; }
            } catch (ExecutionException e) {
                // not up yet: retry until the deadline
            }
            if (System.nanoTime() > deadline) {
                System.err.println("kafka: " + seen + " of " + nodes + " brokers registered after " + timeoutS + " s");
                System.exit(1);
            }
            Thread.sleep(200);
        }
    }

    // Durability comes from replication, so it is stated per topic rather than left to broker
    // defaults a later config change could weaken: acks=all producers need MIN_ISR replicas in
    // sync, and an out-of-sync replica may never become leader (that would drop acknowledged records).
    static void createReplicated(Admin admin, int partitions, short rf, String minIsr, String[] topics) throws Exception {
        Map<String, String> configs = Map.of(
            "min.insync.replicas", minIsr,
            "unclean.leader.election.enable", "false");
        List<NewTopic> wanted = new ArrayList<>();
        for (String t : topics) { wanted.add(new NewTopic(t, partitions, rf).configs(configs)); }
        for (var entry : admin.createTopics(wanted).values().entrySet()) {
            try {
                entry.getValue().get();
                System.out.println("kafka: created topic " + entry.getKey() + " (" + partitions + " partitions, replication "
                    + rf + ", min.insync.replicas " + minIsr + ")");
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) { throw e; }
            }
        }
    }

    static void waitInSync(Admin admin, int timeoutS, String[] topics) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
        String lagging = "metadata not available";
        while (true) {
            try {
                lagging = null;
                for (TopicDescription d : admin.describeTopics(Arrays.asList(topics)).allTopicNames().get().values()) {
                    for (var p : d.partitions()) {
                        if (p.isr().size() < p.replicas().size()) {
                            lagging = d.name() + "-" + p.partition() + " isr " + p.isr().size() + "/" + p.replicas().size();
                        }
                    }
                }
                if (lagging == null) { return; }
            } catch (ExecutionException e) {
                lagging = "metadata not available";
            }
            if (System.nanoTime() > deadline) {
                System.err.println("kafka: replicas not in sync after " + timeoutS + " s (" + lagging + ")");
                System.exit(1);
            }
            Thread.sleep(200);
        }
    }

    static void describe(Admin admin, String[] topics) throws Exception {
        var descriptions = admin.describeTopics(Arrays.asList(topics)).allTopicNames().get();
        List<ConfigResource> resources = new ArrayList<>();
        for (String t : topics) { resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t)); }
        var configs = admin.describeConfigs(resources).all().get();
        for (String t : topics) {
            TopicDescription d = descriptions.get(t);
            Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, t));
            Map<Integer, Integer> leaders = new TreeMap<>();
            for (var p : d.partitions()) {
                if (p.leader() != null && !p.leader().isEmpty()) { leaders.merge(p.leader().id(), 1, Integer::sum); }
            }
            System.out.printf("%-28s partitions=%d replication=%d min.insync.replicas=%s unclean.leader.election=%s leaders/node=%s%n",
                t, d.partitions().size(), d.partitions().get(0).replicas().size(),
                c.get("min.insync.replicas").value(), c.get("unclean.leader.election.enable").value(), leaders);
        }
    }

    static void usage() {
        System.err.println("usage: KafkaAdmin wait BOOTSTRAP TIMEOUT_S | create BOOTSTRAP PARTITIONS TOPIC... | leaders BOOTSTRAP TIMEOUT_S TOPIC..."
            + " | create-compacted BOOTSTRAP PARTITIONS TOPIC..."
            + " | wait-nodes BOOTSTRAP NODES TIMEOUT_S | create-replicated BOOTSTRAP PARTITIONS RF MIN_ISR TOPIC..."
            + " | isr BOOTSTRAP TIMEOUT_S TOPIC... | describe BOOTSTRAP TOPIC...");
        System.exit(2);
    }
}
