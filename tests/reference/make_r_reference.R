#!/usr/bin/env Rscript
# Reference values for tests/test_r_reference.py, computed by R (AER, sandwich, lmtest) on the
# committed dataset tests/reference/data/iv_clustered.csv.
#
#   Rscript tests/reference/make_r_reference.R      # from the repository root (or any directory)
#
# writes tests/reference/r_reference.csv: comment lines ("# ...") with the R and package versions,
# the command and the md5 of the data file, then one row per model x outcome x covariance x term.
# Numbers are written with sprintf("%.17g") (round-trip precision).
#
# Models (every one for y and y2):
#   estimator  ols: lm(y ~ z + x1 + x2)                      (the ITT / A/B regression)
#              iv:  AER::ivreg(y ~ d + x1 + x2 | z + x1 + x2) (2SLS, d instrumented by z)
#   weighted   FALSE, or weights = w (lm/ivreg `weights`: WLS / weighted 2SLS)
#   interacted FALSE: the plain formula above, covariates NOT centred (the package centres them, so
#                     only the intercept differs; slopes and all their SEs are invariant);
#              TRUE:  Lin's interacted regression, with the covariates (x1 and the dummies of x2)
#                     centred at their (weighted) full-sample mean, as the package does:
#                     y ~ z * (x1c + x2b + x2c)  |  y ~ d * (x1c + x2b + x2c) | z * (x1c + x2b + x2c)
#
# Covariances and the package convention each R call reproduces (n rows, k coefficients, G clusters):
#   iid  vcov(fit)                              sigma^2 = sum(w e^2) / (n - k)
#   HC0  sandwich::vcovHC(fit, type = "HC0")    no scale
#   HC1  sandwich::vcovHC(fit, type = "HC1")    n / (n - k)
#   HC2  ols: sandwich::vcovHC(fit, type = "HC2"), leverage h_i = w_i x_i'(X'WX)^-1 x_i
#        iv:  sandwich::vcovHC(fit, omega = function(res, diaghat, df) res^2 / (1 - h_z))
#   HC3  as HC2 with (1 - h)^2
#        where h_z = hatvalues(lm(d ~ <instruments>, weights = w)) = w_i z_i'(Z'WZ)^-1 z_i, the
#        instrument-projection leverage of the package's convention. AER's own hatvalues.ivreg
#        (used by vcovHC(ivreg, type = "HC2"/"HC3") by default) is a different convention: the
#        diagonal of X (Xhat'Xhat)^-1 Xhat', unweighted. Those values are written too, under
#        covariance "HC2-AER" / "HC3-AER", for the record; the package does not follow them.
#   CR0  sandwich::vcovCL(fit, cluster = g, type = "HC0", cadjust = FALSE)   no scale
#   CR1  sandwich::vcovCL(fit, cluster = g, type = "HC1", cadjust = TRUE)    G/(G-1) * (n-1)/(n-k)
#        (note: vcovCL's default cadjust = TRUE applies G/(G-1) even with type = "HC0", so the
#        package's CR0 needs cadjust = FALSE)
# Tests, intervals: lmtest::coeftest / lmtest::coefci with that covariance and df = n - k
# (iid, HC*) or G - 1 (CR*), the package's (and statsmodels') choice; 95% intervals.

suppressPackageStartupMessages({
  library(AER)
  library(sandwich)
  library(lmtest)
})

file_arg <- sub("^--file=", "", grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE))
here <- if (length(file_arg) == 1L) dirname(normalizePath(file_arg)) else file.path("tests", "reference")
data_path <- file.path(here, "data", "iv_clustered.csv")
out_path <- file.path(here, "r_reference.csv")

df <- read.csv(data_path, colClasses = c(g = "integer", z = "integer", d = "integer", x1 = "numeric",
                                         x2 = "character", w = "numeric", y = "numeric", y2 = "numeric"))
df$x2 <- factor(df$x2, levels = c("a", "b", "c"))
df$one <- 1

# R coefficient names -> the package's term labels.
LABELS <- c("(Intercept)" = "(Intercept)", "z" = "z[1]", "d" = "d[1]", "x1" = "x1",
            "x2b" = "x2[b]", "x2c" = "x2[c]", "x1c" = "x1", "x2bc" = "x2[b]", "x2cc" = "x2[c]")
label <- function(r_names, centred) {
  # The intercept of a centred (interacted) fit is the package's "Intercept"; the plain fits'
  # "(Intercept)" (covariates not centred) has no counterpart.
  if (centred) LABELS[["(Intercept)"]] <- "Intercept"
  vapply(strsplit(r_names, ":", fixed = TRUE),
         function(parts) paste(LABELS[parts], collapse = ":"), character(1))
}

centred <- function(data, wt) {
  wmean <- function(v) sum(wt * v) / sum(wt)
  data$x1c <- data$x1 - wmean(data$x1)
  b <- as.numeric(data$x2 == "b")
  cc <- as.numeric(data$x2 == "c")
  data$x2bc <- b - wmean(b)
  data$x2cc <- cc - wmean(cc)
  data
}

fmt <- function(v) sprintf("%.17g", v)

rows <- list()
for (estimator in c("ols", "iv")) for (weighted in c(FALSE, TRUE)) for (interacted in c(FALSE, TRUE)) {
  wcol <- if (weighted) "w" else "one"
  data <- centred(df, df[[wcol]])
  arm <- if (estimator == "ols") "z" else "d"
  covs <- if (interacted) "(x1c + x2bc + x2cc)" else "x1 + x2"
  op <- if (interacted) " * " else " + "
  instruments <- paste0("z", op, covs)
  for (outcome in c("y", "y2")) {
    rhs <- paste0(arm, op, covs)
    if (estimator == "ols") {
      f <- as.formula(paste(outcome, "~", rhs))
      fit <- if (weighted) lm(f, data = data, weights = w) else lm(f, data = data)
    } else {
      f <- as.formula(paste(outcome, "~", rhs, "|", instruments))
      fit <- if (weighted) ivreg(f, data = data, weights = w) else ivreg(f, data = data)
    }
    n <- nobs(fit)
    k <- length(coef(fit))
    G <- length(unique(data$g))
    stopifnot(n == nrow(data), !anyNA(coef(fit)))
    vc <- list(iid = vcov(fit), HC0 = vcovHC(fit, type = "HC0"), HC1 = vcovHC(fit, type = "HC1"))
    if (estimator == "ols") {
      vc$HC2 <- vcovHC(fit, type = "HC2")
      vc$HC3 <- vcovHC(fit, type = "HC3")
    } else {
      zf <- as.formula(paste("d ~", instruments))
      first <- if (weighted) lm(zf, data = data, weights = w) else lm(zf, data = data)
      hz <- unname(hatvalues(first))
      vc$HC2 <- vcovHC(fit, omega = function(res, diaghat, df) res^2 / (1 - hz))
      vc$HC3 <- vcovHC(fit, omega = function(res, diaghat, df) res^2 / (1 - hz)^2)
      vc[["HC2-AER"]] <- vcovHC(fit, type = "HC2")
      vc[["HC3-AER"]] <- vcovHC(fit, type = "HC3")
    }
    vc$CR0 <- vcovCL(fit, cluster = data$g, type = "HC0", cadjust = FALSE)
    vc$CR1 <- vcovCL(fit, cluster = data$g, type = "HC1", cadjust = TRUE)
    model <- paste0(estimator, if (weighted) "_weighted" else "", if (interacted) "_interacted" else "")
    for (cov_name in names(vc)) {
      dof <- if (startsWith(cov_name, "CR")) G - 1L else n - k
      ct <- coeftest(fit, vcov. = vc[[cov_name]], df = dof)
      ci <- coefci(fit, vcov. = vc[[cov_name]], df = dof, level = 0.95)
      rows[[length(rows) + 1L]] <- data.frame(
        model = model, estimator = estimator, weighted = weighted, interacted = interacted,
        outcome = outcome, covariance = cov_name, term = label(rownames(ct), interacted), n = n, k = k,
        clusters = G, df = dof, estimate = fmt(ct[, 1]), std_error = fmt(ct[, 2]),
        statistic = fmt(ct[, 3]), p_value = fmt(ct[, 4]), ci_lower = fmt(ci[, 1]),
        ci_upper = fmt(ci[, 2]), stringsAsFactors = FALSE)
    }
  }
}
table <- do.call(rbind, rows)

version_of <- function(p) paste(p, as.character(packageVersion(p)))
header <- c(
  "# Reference values for tests/test_r_reference.py. Do not edit: regenerate with",
  "#   Rscript tests/reference/make_r_reference.R",
  paste0("# ", R.version.string, " (", R.version$platform, "); ",
         paste(vapply(c("AER", "sandwich", "lmtest"), version_of, character(1)), collapse = "; "),
         " (Debian packages r-base-core r-cran-aer r-cran-sandwich r-cran-lmtest)"),
  paste0("# data: tests/reference/data/iv_clustered.csv md5 ", unname(tools::md5sum(data_path))),
  "# Conventions and the R call behind each covariance: see the top of make_r_reference.R."
)
con <- file(out_path, open = "w")
writeLines(header, con)
write.csv(table, con, row.names = FALSE, quote = FALSE)
close(con)
cat(sprintf("wrote %s (%d rows)\n", out_path, nrow(table)))
