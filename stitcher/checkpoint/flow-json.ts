/**
 * Open flows to and from their checkpoint JSON: the FLOW_OPEN record, and the
 * TCP state of the synthesised connection (relative sequence numbers; the
 * ISNs, MACs and first IP IDs are derived from the flow id again).
 */
import { RecordType, type FlowOpenRecord, type FlowTags } from '../format/records.js';
import type { ConnectionState, EndpointState } from '../flow/tcp-connection.js';
import type { EndpointJson, FlowOpenJson, TcpJson } from './checkpoint.js';

const TEXT_TAGS = ['user', 'serverName', 'application', 'policy', 'site', 'sourceCountry'] as const;
const NUMBER_TAGS = ['clientMss', 'serverMss'] as const;

export function flowOpenToJson(open: FlowOpenRecord): FlowOpenJson {
  const tags: Record<string, string | number> = {};
  for (const name of [...TEXT_TAGS, ...NUMBER_TAGS]) {
    const value = open.tags[name];
    if (value !== undefined) tags[name] = value;
  }
  return {
    id: open.flowId.toString('hex'), ts: open.tsNs.toString(), ip: open.ipVersion, l4: open.l4,
    client: open.clientIp.toString('hex'), clientPort: open.clientPort,
    server: open.serverIp.toString('hex'), serverPort: open.serverPort,
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
}

export function flowOpenFromJson(json: FlowOpenJson): FlowOpenRecord {
  const tags: FlowTags = {};
  for (const name of TEXT_TAGS) {
    const value = json.tags?.[name];
    if (typeof value === 'string') tags[name] = value;
  }
  for (const name of NUMBER_TAGS) {
    const value = json.tags?.[name];
    if (typeof value === 'number') tags[name] = value;
  }
  return {
    type: RecordType.FlowOpen, flowId: Buffer.from(json.id, 'hex'), tsNs: BigInt(json.ts), ipVersion: json.ip, l4: json.l4,
    clientIp: Buffer.from(json.client, 'hex'), clientPort: json.clientPort,
    serverIp: Buffer.from(json.server, 'hex'), serverPort: json.serverPort, tags,
  };
}

export function tcpToJson(state: ConnectionState): TcpJson {
  return { lastTs: state.lastTs.toString(), client: endpointToJson(state.client), server: endpointToJson(state.server) };
}

export function tcpFromJson(json: TcpJson): ConnectionState {
  return { lastTs: BigInt(json.lastTs), client: endpointFromJson(json.client), server: endpointFromJson(json.server) };
}

function endpointToJson(end: EndpointState): EndpointJson {
  return [end.sendNext, end.seenNext, end.acked, end.window, end.ipId];
}

function endpointFromJson([sendNext, seenNext, acked, window, ipId]: EndpointJson): EndpointState {
  return { sendNext, seenNext, acked, window, ipId };
}
