package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// verify stops the box cleanly, then checks storage and the cloud index against
// what the box says it made, prints the table and the summary line.
func (d *demo) verify(ctx context.Context, s snapshot) int {
	problems := []string{}
	// The box registers uploaded clips with the cloud asynchronously: give the last
	// registrations a moment before stopping it (they would survive a stop anyway,
	// queued on its disk, but the check below reads the index now).
	_, acked := subscribedTotals(s)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if idx, err := d.cloudIndex(ctx); err == nil && int64(len(idx)) >= acked {
			break
		}
	}
	if fresh, err := d.status(); err == nil {
		s = fresh
	}
	for _, c := range d.procs {
		if c.name == "boxd" {
			if err := c.stop(30 * time.Second); err != nil {
				problems = append(problems, err.Error())
			} else {
				d.say("boxd stopped cleanly on SIGTERM")
			}
		}
	}
	objs, err := d.objects(ctx)
	if err != nil {
		problems = append(problems, "storage: "+err.Error())
	}
	index, err := d.cloudIndex(ctx)
	if err != nil {
		problems = append(problems, "cloud index: "+err.Error())
	}
	perChan := map[int]int64{}
	for key, o := range objs {
		if o.sha != o.meta {
			problems = append(problems, fmt.Sprintf("object %s: sha256 %s does not match its metadata %s", key, o.sha, o.meta))
			continue
		}
		if idx, ok := index[key]; !ok {
			problems = append(problems, fmt.Sprintf("object %s is not in the cloud's clip index", key))
		} else if idx != o.sha {
			problems = append(problems, fmt.Sprintf("object %s: cloud index sha256 %s differs", key, idx))
		}
		perChan[o.channel]++
	}
	for key := range index {
		if _, ok := objs[key]; !ok {
			problems = append(problems, fmt.Sprintf("cloud index entry %s has no object", key))
		}
	}
	if perChan[unsubChan] > 0 {
		problems = append(problems, fmt.Sprintf("channel %d has no storage package but %d objects were stored", unsubChan, perChan[unsubChan]))
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Println()
	fmt.Fprintln(tw, "channel\tinput\toutput\tpackage\tevents\tclips\tuploaded\tverified\tpending\tevicted\tnot subscribed\t")
	var clips, uploaded, pending, evicted int64
	for _, ch := range s.Channels {
		evs := ch.Events["VMD"] + ch.Events["linedetection"] + ch.Events["fielddetection"]
		pkg := "yes"
		if !ch.Subscribed {
			pkg = "none"
		}
		fmt.Fprintf(tw, "%d\t%s %dx%d\t%s@%dfps\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", ch.ID, ch.Codec, ch.Width, ch.Height,
			ch.Resolution, s.OutputFPS, pkg, evs, ch.ClipsMade, ch.Uploaded, perChan[ch.ID], ch.Pending, ch.Evicted, ch.NotSubscribed)
		clips += ch.ClipsMade
		uploaded += perChan[ch.ID]
		pending += ch.Pending
		evicted += ch.Evicted
	}
	tw.Flush()
	fmt.Println("(events: motion/line-crossing/intrusion notifications seen by the box; an NVR repeats them every second)")
	lost := clips - uploaded - pending - evicted + s.Spool.Lost
	if lost < 0 {
		lost = 0
	}
	for _, p := range problems {
		fmt.Println("PROBLEM:", p)
	}
	fmt.Printf("summary: events=%d clips=%d uploaded=%d pending=%d evicted=%d lost=%d\n", d.events, clips, uploaded, pending, evicted, lost)
	if lost > 0 || len(problems) > 0 || clips == 0 {
		fmt.Printf("demo FAILED; files kept in %s\n", d.work)
		return 1
	}
	if os.Getenv("DEMO_DIR") == "" {
		defer os.RemoveAll(d.work)
	}
	return 0
}

type storedObject struct {
	channel   int
	sha, meta string
}

// objects downloads every object of the box and hashes it.
func (d *demo) objects(ctx context.Context) (map[string]storedObject, error) {
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String("http://" + d.s3Host), Region: "us-east-1", UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(d.s3Key, d.s3Secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out := map[string]storedObject{}
	var token *string
	for {
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), ContinuationToken: token})
		if err != nil {
			return nil, err
		}
		for _, o := range list.Contents {
			get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return nil, err
			}
			h := sha256.New()
			_, err = io.Copy(h, get.Body)
			get.Body.Close()
			if err != nil {
				return nil, err
			}
			var ch int
			fmt.Sscanf(get.Metadata["channel"], "%d", &ch)
			out[*o.Key] = storedObject{channel: ch, sha: hex.EncodeToString(h.Sum(nil)), meta: get.Metadata["sha256"]}
		}
		if list.NextContinuationToken == nil {
			return out, nil
		}
		token = list.NextContinuationToken
	}
}

// cloudIndex logs in as the site owner and lists the box's clips: key -> sha256.
func (d *demo) cloudIndex(ctx context.Context) (map[string]string, error) {
	base := "http://" + d.addr("cloud-api") + "/api/v1"
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, d.seed.Accounts["owner"], d.seed.Password)
	resp, err := http.Post(base+"/login", "application/json", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	var login struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil || login.Token == "" {
		return nil, fmt.Errorf("login as owner: %s %v", resp.Status, err)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/sites/"+d.seed.SiteID+"/boxes/"+d.seed.BoxID+"/clips", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		msg, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	var clips []struct {
		ObjectKey string `json:"object_key"`
		SHA256    string `json:"sha256"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&clips); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, c := range clips {
		out[c.ObjectKey] = c.SHA256
	}
	return out, nil
}
