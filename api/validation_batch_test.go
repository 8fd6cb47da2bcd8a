package api

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func makeJobSpec() batchv1.JobSpec {
	return batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "pi", Image: "perl:5.34"}},
	}}}
}

func TestValidateJob(t *testing.T) {
	job := func(f func(*batchv1.JobSpec)) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default"}, Spec: makeJobSpec()}
		f(&j.Spec)
		return j
	}
	runValidationCases(t, []validationCase{
		{"valid", job(func(*batchv1.JobSpec) {}), nil},
		{"restart policy", job(func(s *batchv1.JobSpec) { s.Template.Spec.RestartPolicy = "" }), []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{"backoff limit", job(func(s *batchv1.JobSpec) { s.BackoffLimit = new(int32(-1)) }), []string{"spec.backoffLimit: Invalid value"}},
		{"indexed needs completions", job(func(s *batchv1.JobSpec) {
			s.CompletionMode = new(batchv1.IndexedCompletion)
			s.Parallelism = new(int32(2))
		}),
			[]string{"spec.completions: Required value"}},
		{"completion mode", job(func(s *batchv1.JobSpec) { s.CompletionMode = new(batchv1.CompletionMode("Ordered")) }), []string{"spec.completionMode: Unsupported value"}},
		{"per-index backoff needs Indexed", job(func(s *batchv1.JobSpec) { s.BackoffLimitPerIndex = new(int32(1)) }), []string{"spec.backoffLimitPerIndex: Forbidden"}},
		{"manual selector selects", job(func(s *batchv1.JobSpec) {
			s.ManualSelector = new(true)
			s.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"job": "pi"}}
		}), []string{"spec.template.metadata.labels: Invalid value"}},
		{"pod failure policy", job(func(s *batchv1.JobSpec) {
			s.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: "Retry"}}}
		}), []string{"spec.podFailurePolicy.rules[0]: Invalid value", "spec.podFailurePolicy.rules[0].action: Unsupported value"}},
	})
}

func TestValidateCronJob(t *testing.T) {
	cron := func(f func(*batchv1.CronJob)) *batchv1.CronJob {
		c := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: "default"}, Spec: batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: makeJobSpec()},
		}}
		f(c)
		return c
	}
	runValidationCases(t, []validationCase{
		{"valid", cron(func(*batchv1.CronJob) {}), nil},
		{"schedule required", cron(func(c *batchv1.CronJob) { c.Spec.Schedule = "" }), []string{"spec.schedule: Required value"}},
		{"schedule syntax", cron(func(c *batchv1.CronJob) { c.Spec.Schedule = "every minute" }), []string{"spec.schedule: Invalid value"}},
		{"no time zone in schedule", cron(func(c *batchv1.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" }), []string{"spec.schedule: Invalid value"}},
		{"time zone", cron(func(c *batchv1.CronJob) { c.Spec.TimeZone = new("Europe/Paris") }), nil},
		{"explicit time zone", cron(func(c *batchv1.CronJob) { c.Spec.TimeZone = new("Local") }), []string{"spec.timeZone: Invalid value"}},
		{"name length", cron(func(c *batchv1.CronJob) { c.Name = strings.Repeat("a", 53) }), []string{"metadata.name: Invalid value"}},
		{"concurrency policy", cron(func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Queue" }), []string{"spec.concurrencyPolicy: Unsupported value"}},
		{"history limits", cron(func(c *batchv1.CronJob) { c.Spec.FailedJobsHistoryLimit = new(int32(-1)) }), []string{"spec.failedJobsHistoryLimit: Invalid value"}},
		{"starting deadline", cron(func(c *batchv1.CronJob) { c.Spec.StartingDeadlineSeconds = new(int64(-10)) }), []string{"spec.startingDeadlineSeconds: Invalid value"}},
		{"job template", cron(func(c *batchv1.CronJob) { c.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "" }),
			[]string{"spec.jobTemplate.spec.template.spec.containers[0].image: Required value"}},
	})
}

func TestCheckCronSchedule(t *testing.T) {
	valid := []string{
		"* * * * *", "*/5 * * * *", "0 0 * * *", "0 12 1 JAN *", "0 9 * * MON-FRI", "30 2 1,15 * ?",
		"0-59/15 0-23 1-31 1-12 0-6", "5/10 * * * *", "@hourly", "@daily", "@Weekly", "@every 1h30m",
	}
	invalid := []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
		"*/0 * * * *", "5-1 * * * *", "a * * * *", "* * * FOO *", "@fortnightly", "@every", "@every -1m", "1,,2 * * * *",
	}
	for _, s := range valid {
		t.Run("valid "+s, func(t *testing.T) {
			if err := checkCronSchedule(s); err != nil {
				t.Error(err)
			}
		})
	}
	for _, s := range invalid {
		t.Run("invalid "+s, func(t *testing.T) {
			if err := checkCronSchedule(s); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func FuzzCronSchedule(f *testing.F) {
	for _, s := range []string{"*/5 * * * *", "0 9 * * MON-FRI", "@every 1h", "5/10 1-2,4 ? JAN-DEC SUN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkCronSchedule(s)
	})
}
