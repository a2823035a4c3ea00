// The tests start the same RTSP simulator the demo does.
export { freePort, startRtspServer, type RtspServer, type RtspServerOptions } from '../../scripts/sim/rtsp-sim.js';
