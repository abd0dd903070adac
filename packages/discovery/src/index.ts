// Discovery for the brokerless transports: the name directory they share, signed announcements of
// what each node serves, and the two ways nodes meet (UDP beacons, a survey by discovery nodes).

export { Directory, inSync, sharedDirectory } from './directory.js';
export type { DirectoryChange, Peer, PeerEndpoints } from './directory.js';
export { GIVEN, GivenEndpoints, endpointsUrl, patternOf } from './given.js';
export type { EndpointOptions, Pattern } from './given.js';
export { DEFAULT_INTERVAL_MS, DEFAULT_SECRET, Discovery } from './discovery.js';
export type { DiscoveryOptions, Meeting } from './discovery.js';
export { MAX_PACKET, open, seal } from './record.js';
export type { Announcement } from './record.js';
export { DEFAULT_BEACON, udpBeacon } from './beacon.js';
export type { BeaconOptions } from './beacon.js';
export { discoveryFromUrl, discoveryOf, meetingsFor, sendWhenServed, useDiscovery } from './use.js';
export type { Discovering, DiscoveryConfig } from './use.js';
export { DISCOVERY_TOPIC, serveDiscovery, surveyMeeting } from './survey.js';
export type { DiscoveryNode, DiscoveryNodeOptions } from './survey.js';
export { separateNodes } from './separate.js';
