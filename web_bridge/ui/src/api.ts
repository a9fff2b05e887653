// Clients of the operator API over grpc-web (binary), served by the bridge that
// also serves this page.

import {
  Code,
  ConnectError,
  createClient,
  type Client,
  type Interceptor,
} from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { AgentService } from "./gen/dalevision/ops/v1/agent_pb";
import { AlertService } from "./gen/dalevision/ops/v1/alert_pb";
import { AuthService } from "./gen/dalevision/ops/v1/auth_pb";
import { CameraService } from "./gen/dalevision/ops/v1/camera_pb";
import { ConfigService } from "./gen/dalevision/ops/v1/config_pb";
import { MetricsService } from "./gen/dalevision/ops/v1/metrics_pb";
import { StoreService } from "./gen/dalevision/ops/v1/store_pb";

// Deadline of unary calls. Streaming calls pass their own.
const UNARY_TIMEOUT_MS = 15_000;

export interface Api {
  auth: Client<typeof AuthService>;
  stores: Client<typeof StoreService>;
  cameras: Client<typeof CameraService>;
  agents: Client<typeof AgentService>;
  alerts: Client<typeof AlertService>;
  metrics: Client<typeof MetricsService>;
  config: Client<typeof ConfigService>;
}

export interface ApiOptions {
  /** Origin of the bridge, which is the page's own origin in production. */
  baseUrl: string;
  /** Current bearer token, or null before sign-in. */
  getToken: () => string | null;
  /** Called when a call that carried a token fails with UNAUTHENTICATED. */
  onUnauthenticated: (error: ConnectError) => void;
}

function authInterceptor(options: ApiOptions): Interceptor {
  return (next) => async (request) => {
    const token = options.getToken();
    if (token !== null) {
      request.header.set("authorization", `Bearer ${token}`);
    }
    try {
      return await next(request);
    } catch (error) {
      const connectError = ConnectError.from(error);
      if (token !== null && connectError.code === Code.Unauthenticated) {
        options.onUnauthenticated(connectError);
      }
      throw error;
    }
  };
}

export function createApi(options: ApiOptions): Api {
  const transport = createGrpcWebTransport({
    baseUrl: options.baseUrl,
    useBinaryFormat: true,
    interceptors: [authInterceptor(options)],
    defaultTimeoutMs: UNARY_TIMEOUT_MS,
  });
  return {
    auth: createClient(AuthService, transport),
    stores: createClient(StoreService, transport),
    cameras: createClient(CameraService, transport),
    agents: createClient(AgentService, transport),
    alerts: createClient(AlertService, transport),
    metrics: createClient(MetricsService, transport),
    config: createClient(ConfigService, transport),
  };
}

// Status names as gRPC spells them, so a message can be searched for.
const STATUS_NAMES: Record<Code, string> = {
  [Code.Canceled]: "CANCELLED",
  [Code.Unknown]: "UNKNOWN",
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.PermissionDenied]: "PERMISSION_DENIED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.OutOfRange]: "OUT_OF_RANGE",
  [Code.Unimplemented]: "UNIMPLEMENTED",
  [Code.Internal]: "INTERNAL",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DataLoss]: "DATA_LOSS",
  [Code.Unauthenticated]: "UNAUTHENTICATED",
};

/** Format any error from a call as "STATUS: message from the server". */
export function describeError(error: unknown): string {
  const connectError = ConnectError.from(error);
  const status = STATUS_NAMES[connectError.code] ?? `status ${connectError.code}`;
  const message = connectError.rawMessage || "no message";
  return `${status}: ${message}`;
}

export function errorCode(error: unknown): Code {
  return ConnectError.from(error).code;
}

/** Tell whether an error comes from an AbortController that this page aborted. */
export function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && errorCode(error) === Code.Canceled;
}
