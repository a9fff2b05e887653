// Sign-in form: email and password in, a session with a bearer token out.

import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";

import { describeError, errorCode, type Api } from "../api";
import { el, labelled } from "../dom";
import { dateOf } from "../format";
import { LoginRequestSchema } from "../gen/dalevision/ops/v1/auth_pb";
import { Notice } from "../notice";
import type { Session } from "../session";

export function renderSignIn(
  api: Api,
  onSignedIn: (session: Session) => void,
  message: string | null,
): HTMLElement {
  const notice = new Notice("signin-error");
  if (message !== null) {
    notice.show("info", message);
  }
  const email = el("input", {
    type: "email",
    name: "email",
    autocomplete: "username",
    required: true,
    "data-testid": "signin-email",
  });
  const password = el("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "signin-password",
  });
  // Only users of several organizations need it, and their failed login says so.
  const organization = el("input", {
    type: "text",
    name: "organization",
    autocomplete: "organization",
    "data-testid": "signin-organization",
  });
  const organizationField = labelled("Organization id", organization);
  organizationField.hidden = true;
  const submit = el(
    "button",
    { type: "submit", class: "primary", "data-testid": "signin-submit" },
    "Sign in",
  );

  const form = el(
    "form",
    { class: "signin-form", "aria-labelledby": "signin-title" },
    el("h1", { id: "signin-title" }, "DALE Vision"),
    el("p", { class: "muted" }, "Sign in to the operator console."),
    labelled("Email", email),
    labelled("Password", password),
    organizationField,
    notice.element,
    submit,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    notice.clear();
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const response = await api.auth.login(
        create(LoginRequestSchema, {
          email: email.value.trim(),
          password: password.value,
          organizationId: organization.value.trim(),
        }),
      );
      const expire = dateOf(response.expireTime);
      password.value = "";
      onSignedIn({
        accessToken: response.accessToken,
        email: email.value.trim(),
        userId: response.userId,
        organizationId: response.organizationId,
        role: response.role,
        expireTimeMs: expire === null ? 0 : expire.getTime(),
      });
    } catch (error) {
      notice.show("error", `Sign-in failed. ${describeError(error)}`);
      if (errorCode(error) === Code.InvalidArgument && organizationField.hidden) {
        organizationField.hidden = false;
        organization.focus();
        return;
      }
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  });

  queueMicrotask(() => email.focus());
  return el("main", { class: "signin", "data-testid": "signin-view" }, form);
}
