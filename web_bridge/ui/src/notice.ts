// A message area for errors and confirmations, read out by screen readers.

import { el } from "./dom";

export type NoticeKind = "error" | "info" | "success";

export class Notice {
  readonly element: HTMLDivElement;

  constructor(testId: string) {
    this.element = el("div", {
      class: "notice",
      role: "status",
      "aria-live": "polite",
      "data-testid": testId,
      hidden: true,
    });
  }

  show(kind: NoticeKind, text: string): void {
    this.element.className = `notice notice-${kind}`;
    this.element.setAttribute("role", kind === "error" ? "alert" : "status");
    this.element.dataset.kind = kind;
    this.element.textContent = text;
    this.element.hidden = false;
  }

  clear(): void {
    this.element.hidden = true;
    this.element.textContent = "";
    delete this.element.dataset.kind;
  }
}
