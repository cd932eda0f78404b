package handlers

import (
	"strconv"
	"strings"

	"creditline/billing"
	"github.com/labstack/echo/v4"
)

// The rate form names its inputs by the engine's validation paths (rates.<id>.flat,
// rates.<id>.components.<q>.price, ...), so one map of errors serves both.

// rateForm reads a rate of action from the form; a field that does not parse is reported
// under its rates.<id>.* path, so the form shows it where the engine's errors go.
func rateForm(c echo.Context, id string, quantities []string) (billing.Rate, map[string]string, error) {
	id = strings.TrimSpace(id)
	p := "rates." + id + "."
	r := billing.Rate{ID: id, Action: strings.TrimSpace(c.FormValue(p + "action")), Premium: c.FormValue(p+"premium") == "on"}
	var v billing.Validation
	r.Match = parseMatch(&v, p+"match", c.FormValue(p+"match"))
	r.Flat = formAmount(&v, p+"flat", c.FormValue(p+"flat"))
	r.Minimum = formAmount(&v, p+"minimum", c.FormValue(p+"minimum"))
	r.FlatCostMicroUSD = formInt(&v, p+"flat_cost", c.FormValue(p+"flat_cost"))
	if m := strings.TrimSpace(c.FormValue(p + "multiplier")); m != "" {
		mv, err := billing.ParseMultiplier(m)
		if err != nil {
			v.Add(p+"multiplier", "Use a number like 1.5.")
		}
		r.Multiplier = mv
	}
	for _, q := range quantities {
		cp := p + "components." + q
		price, tiers := strings.TrimSpace(c.FormValue(cp+".price")), strings.TrimSpace(c.FormValue(cp+".tiers"))
		if price == "" && tiers == "" {
			continue // this quantity is not priced by the rate
		}
		comp := billing.Component{Quantity: q, Per: 1}
		if per := strings.TrimSpace(c.FormValue(cp + ".per")); per != "" {
			comp.Per = formInt(&v, cp+".per", per)
		}
		comp.CostMicroUSD = formInt(&v, cp+".cost", c.FormValue(cp+".cost"))
		comp.Price = formAmount(&v, cp+".price", price)
		comp.Tiers = parseTiers(&v, cp+".tiers", tiers)
		r.Components = append(r.Components, comp)
	}
	return r, formValuesAll(c), v.Err()
}

func formValuesAll(c echo.Context) map[string]string {
	form, _ := c.FormParams()
	out := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// formAmount parses credits ("2.5", "1,000"); empty is zero.
func formAmount(v *billing.Validation, field, s string) billing.Credits {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0
	}
	c, err := billing.ParseCredits(s)
	if err != nil {
		v.Add(field, "Use a number of credits with at most 3 decimals, like 2.5.")
	}
	return c
}

// formInt parses a whole number; empty is zero.
func formInt(v *billing.Validation, field, s string) int64 {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		v.Add(field, "Use a whole number.")
	}
	return n
}

// parseMatch reads "model=gpt-4o, quality=hd".
func parseMatch(v *billing.Validation, field, s string) map[string]string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	m := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || strings.TrimSpace(k) == "" {
			v.Add(field, "Write attribute=value pairs separated by commas, like model=gpt-4o.")
			return nil
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return m
}

// parseTiers reads graduated tiers "10:1, 0.7": up to 10 units at 1 credit per block, the
// rest at 0.7 (the last tier has no bound).
func parseTiers(v *billing.Validation, field, s string) []billing.Tier {
	if s == "" {
		return nil
	}
	var out []billing.Tier
	for _, part := range strings.Split(s, ",") {
		upTo, price, bounded := strings.Cut(strings.TrimSpace(part), ":")
		if !bounded {
			price, upTo = upTo, ""
		}
		t := billing.Tier{Price: formAmount(v, field, price)}
		if upTo != "" {
			q, err := billing.ParseQuantity(strings.TrimSpace(upTo))
			if err != nil {
				v.Add(field, "Write up_to:price pairs and a last price alone, like 10:1, 0.7.")
			}
			t.UpTo = q
		}
		out = append(out, t)
	}
	return out
}

// TiersText writes tiers in the form parseTiers reads.
func TiersText(ts []billing.Tier) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Price.String()
		if t.UpTo != 0 {
			parts[i] = t.UpTo.String() + ":" + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// scheduleForm reads the schedule's rows (window.N.name, .days, .from, .to, .multiplier);
// a row with an empty name is left out.
func scheduleForm(c echo.Context) (billing.Schedule, billing.Multiplier, error) {
	var v billing.Validation
	s := billing.Schedule{Enabled: c.FormValue("schedule_enabled") == "on"}
	for i := 0; i < 12; i++ {
		p := "schedule.windows.#" + strconv.Itoa(len(s.Windows))
		name := strings.TrimSpace(c.FormValue("window." + strconv.Itoa(i) + ".name"))
		if name == "" {
			continue
		}
		w := billing.Window{Name: name}
		for _, d := range strings.Split(c.FormValue("window."+strconv.Itoa(i)+".days"), ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				w.Days = append(w.Days, d)
			}
		}
		w.FromHour = int(formInt(&v, p+".hours", c.FormValue("window."+strconv.Itoa(i)+".from")))
		w.ToHour = int(formInt(&v, p+".hours", c.FormValue("window."+strconv.Itoa(i)+".to")))
		m, err := billing.ParseMultiplier(strings.TrimSpace(c.FormValue("window." + strconv.Itoa(i) + ".multiplier")))
		if err != nil {
			v.Add(p+".multiplier", "Use a number like 1.5.")
		}
		w.Multiplier = m
		s.Windows = append(s.Windows, w)
	}
	var batch billing.Multiplier
	if b := strings.TrimSpace(c.FormValue("batch_multiplier")); b != "" {
		m, err := billing.ParseMultiplier(b)
		if err != nil {
			v.Add("batch_multiplier", "Use a number like 0.8.")
		}
		batch = m
	}
	return s, batch, v.Err()
}
