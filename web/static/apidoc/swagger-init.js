// Starts Swagger UI (/apidoc/swagger/) on the OpenAPI document the page names in data-spec-url. It is a
// file rather than an inline script so that the page's Content-Security-Policy allows scripts from this
// origin only.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // Swagger UI's default checks the document with validator.swagger.io, another host.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
  });
})();
