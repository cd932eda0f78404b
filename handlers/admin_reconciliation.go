package handlers

import (
	"io"
	"net/http"

	"creditline/billing"
	"creditline/billing/reconcile"
	"creditline/views/pages"
	"github.com/labstack/echo/v4"
)

// AdminReconciliation: GET /admin/reconciliation — the upload form, recent imports, and one
// import's lines (?import=id, the newest by default).
func (h *Handlers) AdminReconciliation(c echo.Context) error {
	v, err := h.reconciliationView(c, c.QueryParam("import"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminReconciliation(v))
}

func (h *Handlers) reconciliationView(c echo.Context, id string) (pages.AdminReconciliationView, error) {
	ctx := c.Request().Context()
	ims, err := h.reconcile.Imports(ctx)
	if err != nil {
		return pages.AdminReconciliationView{}, err
	}
	v := pages.AdminReconciliationView{Imports: ims}
	if id == "" && len(ims) > 0 {
		id = ims[0].ID
	}
	if id != "" {
		im, err := h.reconcile.ImportByID(ctx, id)
		if err != nil {
			return v, err
		}
		v.Shown = &im
	}
	return v, nil
}

// AdminImportVendorFile: POST /admin/reconciliation — a vendor file (multipart field "file"),
// compared and kept, audited. A bad file re-renders the form with the line and reason (422).
func (h *Handlers) AdminImportVendorFile(c echo.Context) error {
	in, err := vendorUpload(c)
	if err == nil {
		var im reconcile.Import
		if im, err = h.reconcile.Import(c.Request().Context(), in, adminOp(c)); err == nil {
			return c.Redirect(http.StatusSeeOther, "/admin/reconciliation?import="+im.ID)
		}
	}
	if billing.ErrorCode(err) != billing.EInvalid {
		return err
	}
	v, verr := h.reconciliationView(c, "")
	if verr != nil {
		return verr
	}
	fields, msg := fieldErrors(err)
	v.FileError = fields["file"]
	if v.FileError == "" {
		v.FileError = msg
	}
	return render(c, formStatus, pages.AdminReconciliation(v))
}

func vendorUpload(c echo.Context) (reconcile.ImportInput, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return reconcile.ImportInput{}, billing.FieldError("file", "Choose a CSV or JSON file to upload.")
	}
	if fh.Size > reconcile.MaxFileBytes {
		return reconcile.ImportInput{}, billing.FieldError("file", "The file is larger than %d KiB.", reconcile.MaxFileBytes>>10)
	}
	f, err := fh.Open()
	if err != nil {
		return reconcile.ImportInput{}, billing.FieldError("file", "The file could not be read.")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, reconcile.MaxFileBytes+1))
	if err != nil {
		return reconcile.ImportInput{}, billing.FieldError("file", "The file could not be read.")
	}
	return reconcile.ImportInput{Filename: fh.Filename, Data: data}, nil
}
