/** Tailwind v3 configuration. Build with `make css`; the output static/app.css is committed. */
module.exports = {
  content: ["./views/**/*.templ", "./views/**/*.go"],
  theme: {
    extend: {
      fontFamily: {
        sans: ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
      },
    },
  },
  plugins: [],
};
