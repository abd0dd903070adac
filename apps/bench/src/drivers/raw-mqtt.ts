// The baseline for the MQTT adapter: MQTT.js directly, MQTT 5 at QoS 0 (at most once). Echo is a
// request with a response topic and correlation data, answered by repliers sharing `$share/echo/...`.
import mqtt, { type MqttClient } from 'mqtt';
import type { Driver, Link } from './driver.js';

let counter = 0;

class MqttLink implements Link {
  readonly #client: MqttClient;
  readonly #pending = new Map<string, (reply: Uint8Array) => void>();
  #replyTopic: string | undefined;

  constructor(client: MqttClient) {
    this.#client = client;
  }

  publish(topic: string, data: Uint8Array): void {
    this.#client.publish(topic, Buffer.from(data), { qos: 0 });
  }

  async subscribe(topic: string, onMessage: (data: Uint8Array) => void): Promise<void> {
    this.#client.on('message', (received, payload) => {
      if (received === topic) onMessage(payload);
    });
    await this.#client.subscribeAsync(topic, { qos: 0 });
  }

  async serve(service: string, workers: number): Promise<void> {
    // One connection: the broker delivers a shared subscription's message to one client; `workers` does not apply.
    void workers;
    this.#client.on('message', (topic, payload, packet) => {
      const responseTopic = packet.properties?.responseTopic;
      if (topic !== service || !responseTopic) return;
      this.#client.publish(responseTopic, payload, { qos: 0, properties: { correlationData: packet.properties?.correlationData } });
    });
    await this.#client.subscribeAsync(`$share/echo/${service}`, { qos: 0 });
  }

  async request(service: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!this.#replyTopic) {
      const replyTopic = `${service}/reply/${process.pid}-${counter++}`;
      this.#client.on('message', (topic, payload, packet) => {
        if (topic !== replyTopic) return;
        const id = packet.properties?.correlationData?.toString();
        const resolve = id === undefined ? undefined : this.#pending.get(id);
        if (resolve) resolve(payload);
      });
      await this.#client.subscribeAsync(replyTopic, { qos: 0 });
      this.#replyTopic = replyTopic;
    }
    const id = String(counter++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`mqtt: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(reply);
      });
      this.#client.publish(service, Buffer.from(data), { qos: 0, properties: { responseTopic: this.#replyTopic, correlationData: Buffer.from(id) } });
    });
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}

export const rawMqttDriver: Driver = {
  open: async () => new MqttLink(await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5, reconnectPeriod: 0 })),
};
