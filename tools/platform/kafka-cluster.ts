import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@pinflow/testing';
import { kafkaLocal, usersSetting } from './kafka';

export interface LocalKafkaCluster {
  /** Every node's client address, comma-separated, as KAFKA_BROKERS takes them. */
  brokers: string;
  /** Node i's client address (i counts from 0, in the order of `brokers`). */
  broker(i: number): string;
  nodes: number;
  stateDir: string;
  /** SIGKILL of node i: a crash, no shutdown, no flush. */
  kill(i: number): Promise<void>;
  /** Starts node i again on the data it had, and waits until it serves clients. */
  resume(i: number): Promise<void>;
  /** Every node at once, since a node alone cannot serve without a quorum of controllers. */
  killAll(): Promise<void>;
  resumeAll(): Promise<void>;
  /** Stops every node and deletes the cluster's data (unless the caller chose the state directory). */
  stop(): Promise<void>;
}

/**
 * A real KRaft cluster on loopback from Apache Kafka's jars: `nodes` combined broker+controller nodes
 * in a static quorum, on free ports. Topics the brokers make themselves (consumer offsets,
 * transactions) get replication 3 and min ISR 2; pinflow's services make theirs with
 * KAFKA_REPLICATION_FACTOR. For failure drills: any node can be killed and resumed. With `users`
 * (name to password, the first the brokers' own super user) it serves SASL_SSL only: see kafka-secured.ts.
 */
export async function startLocalKafkaCluster(options: { nodes?: number; stateDir?: string; users?: Record<string, string> } = {}): Promise<LocalKafkaCluster> {
  const nodes = options.nodes ?? 3;
  const stateDir = options.stateDir ?? mkdtempSync(path.join(os.tmpdir(), 'pinflow-kafka-cluster-'));
  const ports: number[] = [];
  const controllerPorts: number[] = [];
  for (let i = 0; i < nodes; i += 1) {
    ports.push(await freePort());
    controllerPorts.push(await freePort());
  }
  const env = {
    KAFKA_STATE_DIR: stateDir,
    KAFKA_CLUSTER_PORTS: ports.join(','),
    KAFKA_CLUSTER_CONTROLLER_PORTS: controllerPorts.join(','),
    ...(options.users ? { KAFKA_SASL_USERS: usersSetting(options.users) } : {}),
  };
  const nodeId = (i: number) => {
    if (!Number.isInteger(i) || i < 0 || i >= nodes) throw new Error(`no node ${i}: the cluster has nodes 0 to ${nodes - 1}`);
    return String(i + 1);
  };
  await kafkaLocal(['cluster-start'], env);
  return {
    brokers: ports.map((port) => `127.0.0.1:${port}`).join(','),
    broker: (i) => `127.0.0.1:${ports[Number(nodeId(i)) - 1]}`,
    nodes,
    stateDir,
    kill: (i) => kafkaLocal(['cluster-kill', nodeId(i)], env),
    resume: (i) => kafkaLocal(['cluster-resume', nodeId(i)], env),
    killAll: () => kafkaLocal(['cluster-kill'], env),
    resumeAll: () => kafkaLocal(['cluster-resume'], env),
    stop: async () => {
      await kafkaLocal(['cluster-stop'], env);
      if (!options.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
