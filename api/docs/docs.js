// Starts Swagger UI (swagger-ui-bundle.js, loaded before this file) on the contract this gateway
// serves. It is a file rather than an inline script so that the page's Content-Security-Policy
// can allow scripts from the gateway only.
"use strict";

window.ui = SwaggerUIBundle({
  // Relative to the page: /docs loads /openapi.yaml from the same gateway, and the contract's
  // server ("/") sends "Try it out" there too.
  url: "openapi.yaml",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  // Client code is generated from the contract, so show the names it uses.
  displayOperationId: true,
  // Never send the contract to an online validator: the page works offline and tells no one
  // what it shows.
  validatorUrl: null,
  // A key or token given to "Authorize" stays in this page and is gone when it closes; it is
  // never written to the browser's storage.
  persistAuthorization: false,
});
