// Creates (or updates) SCRAM-SHA-512 principals and their ACLs with Kafka's own Admin client.
// Called by `python -m engine.tools toegang`, which computes the ACLs from engine/ops/acls.py (the one
// place they are written) and passes them here as JSON on stdin:
//   {"admin": {<Java client properties of a super user>},
//    "users": [{"name": "partner.gm0363", "password": "...",
//               "acls": [{"resource": "TOPIC", "name": "partner.gm0363.signalen",
//                         "pattern": "LITERAL", "operations": ["WRITE", "DESCRIBE"]}]}]}
// Run as a single-file program: java -cp '<kafka jars>/*' deploy/kafka-admin/Toegang.java
// Kafka's Python clients cannot do this: aiokafka has no AlterUserScramCredentials.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Toegang {
  private static final int ITERATIONS = 8192;

  public static void main(String[] args) throws Exception {
    JsonNode spec = new ObjectMapper().readTree(System.in);
    Properties props = new Properties();
    spec.get("admin").fields().forEachRemaining(e -> props.put(e.getKey(), e.getValue().asText()));
    List<UserScramCredentialAlteration> users = new ArrayList<>();
    List<AclBinding> acls = new ArrayList<>();
    for (JsonNode user : spec.get("users")) {
      String name = user.get("name").asText();
      if (user.hasNonNull("password")) {
        users.add(new UserScramCredentialUpsertion(
            name, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS),
            user.get("password").asText()));
      }
      for (JsonNode acl : user.get("acls")) {
        ResourcePattern resource = new ResourcePattern(
            ResourceType.valueOf(acl.get("resource").asText()), acl.get("name").asText(),
            PatternType.valueOf(acl.get("pattern").asText()));
        for (JsonNode operation : acl.get("operations")) {
          acls.add(new AclBinding(resource, new AccessControlEntry(
              "User:" + name, "*", AclOperation.valueOf(operation.asText()), AclPermissionType.ALLOW)));
        }
      }
    }
    try (Admin admin = Admin.create(props)) {
      if (!users.isEmpty()) {
        admin.alterUserScramCredentials(users).all().get();
      }
      admin.createAcls(acls).all().get();
      awaitApplied(props, spec);
    }
    System.out.println("{\"users\": " + users.size() + ", \"acls\": " + acls.size() + "}");
  }

  // The controller has committed the credentials; a broker applies them a moment later, and a client
  // that connects before that fails to authenticate. Log in as the last user (the broker applies
  // metadata in order, so the others are there too) until the broker accepts it.
  private static void awaitApplied(Properties adminProps, JsonNode spec) throws Exception {
    JsonNode last = null;
    for (JsonNode user : spec.get("users")) {
      if (user.hasNonNull("password")) {
        last = user;
      }
    }
    if (last == null) {
      return;
    }
    Properties props = new Properties();
    props.putAll(adminProps);
    props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
        + "username=\"" + last.get("name").asText() + "\" password=\"" + last.get("password").asText() + "\";");
    props.put("request.timeout.ms", "2000");
    props.put("default.api.timeout.ms", "2000");
    for (int attempt = 0; attempt < 60; attempt++) {
      try (Admin user = Admin.create(props)) {
        user.describeCluster().clusterId().get();
        return;
      } catch (java.util.concurrent.ExecutionException notYet) {
        Thread.sleep(250);
      }
    }
    throw new IllegalStateException("the broker did not accept the new credentials within a minute");
  }
}
