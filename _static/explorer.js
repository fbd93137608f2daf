/* The pooling explorer of chapter 2, live in the HTML book without a Python kernel.

   The page holds <div class="pool-explorer" data-inputs="..." data-settings="..." ...>,
   written by poolbook.explorer.page_html(): the input maps (computed by the package, never
   here), the settings to start from, the presets and the sliders' ranges. This script builds the controls in that element
   and redraws on every change: the padded input with its windows, the output, the
   output-size rule with the numbers filled in, and, for a setting the package refuses,
   the package's own rule in words.

   The arithmetic follows poolbook.pool2d (code/poolbook/pooling.py) step by step:
   output_size (ceil mode drops a last window that would start in the trailing padding),
   divisor (count_include_pad; a ceil-mode window's cells past the padded input never
   count), padding never wins a max and adds zero to a sum, results rounded to float32
   as pool2d returns them for the float32 inputs. tests/test_browser.py drives this
   script over thousands of settings and compares every output with pool2d's.

   After each redraw the element carries what it shows, for machines: data-shape ("3,2",
   "" when refused), data-output (the numbers, JSON, unrounded), data-message (the
   refusal, "" when none) and data-formula. window.poolExplorer.instances lists the
   explorers; instance.set({...}) moves the controls as a reader would and redraws.
   Plain JavaScript and SVG: no framework, nothing fetched. Jupyter Book adds every .js
   file under _static/ to every page; on a page without the element this does nothing. */
(function () {
    'use strict';

    // ------------------------------------------------ arithmetic (poolbook.pooling)

    /* Output length along one axis (pooling.output_size). */
    function outputSize(n, k, s, p, ceil) {
        const span = n + 2 * p - k;
        if (!ceil) return Math.floor(span / s) + 1;
        let out = Math.ceil(span / s) + 1;
        if ((out - 1) * s >= n + p) out -= 1;  // the last window would start in the padding
        return out;
    }

    /* How many cells each window along one axis divides by (pooling.divisor). */
    function divisors(n, k, s, p, out, countPad) {
        const d = [];
        for (let i = 0; i < out; i++) {
            const start = i * s - p;  // the window's first cell, in input coordinates
            d.push(countPad ? Math.min(k, n + p - start)  // not past the padded input
                            : Math.min(start + k, n) - Math.max(start, 0));  // input only
        }
        return d;
    }

    const pair = (a, b) => `(${a}, ${b})`;

    /* The message poolbook.checks.check_pool_args raises for this setting; '' if none. */
    function refusal(n, k, p) {
        if (p[0] >= k[0] || p[1] >= k[1]) {
            return `padding ${pair(...p)} must be smaller than pool_size ${pair(...k)} in ` +
                'each axis: otherwise a window could hold nothing but padding';
        }
        const padded = [n[0] + 2 * p[0], n[1] + 2 * p[1]];
        if (k[0] > padded[0] || k[1] > padded[1]) {
            const what = p[0] === 0 && p[1] === 0 ? 'input' : `input padded by ${pair(...p)}`;
            return `pool_size ${pair(...k)} does not fit in the ${what}, whose spatial ` +
                `shape is ${pair(...padded)}: the window must not be larger`;
        }
        return '';
    }

    /* One axis of the rule in words, as poolbook.explorer.axis_formula writes it. */
    function axisFormula(axis, n, k, s, p, ceil) {
        const [left, right] = ceil ? ['⌈', '⌉'] : ['⌊', '⌋'];
        const text = `${axis}: ${left}(${n} + 2·${p} − ${k}) / ${s}${right} + 1`;
        const span = n + 2 * p - k;
        const rounded = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
        const out = outputSize(n, k, s, p, ceil);
        if (out !== rounded) {
            return `${text} − 1 = ${out} (the last window would start in the padding, ` +
                'so it is dropped)';
        }
        return `${text} = ${out}`;
    }

    /* Pool the 2-D array X (rows of numbers) as pool2d(X, pool_size, mode, strides=...,
       padding=..., ceil_mode=..., count_include_pad=...) does. Returns {message} for a
       refused setting, else {shape, Y, windows, formula}: Y[i][j] the output, windows[i][j]
       the window's corner (padded coordinates), its cells inside the input and divisor. */
    function pool(X, settings) {
        const k = settings.pool_size, s = settings.strides, p = settings.padding;
        const n = [X.length, X[0].length];
        const message = refusal(n, k, p);
        if (message) return {message};
        const ceil = settings.ceil_mode, mode = settings.mode;
        const out = [0, 1].map(a => outputSize(n[a], k[a], s[a], p[a], ceil));
        const div = [0, 1].map(a => divisors(n[a], k[a], s[a], p[a], out[a],
                                             settings.count_include_pad));
        const Y = [], windows = [];
        for (let i = 0; i < out[0]; i++) {
            Y.push([]);
            windows.push([]);
            const top = i * s[0] - p[0];  // input coordinates of the window's corner
            for (let j = 0; j < out[1]; j++) {
                const left = j * s[1] - p[1];
                const cells = [];
                let value = mode === 'max' ? -Infinity : 0;
                // Only cells inside the input: padding never wins a max, adds 0 to a sum.
                for (let a = Math.max(top, 0); a < Math.min(top + k[0], n[0]); a++) {
                    for (let b = Math.max(left, 0); b < Math.min(left + k[1], n[1]); b++) {
                        cells.push([a, b]);
                        value = mode === 'max' ? Math.max(value, X[a][b]) : value + X[a][b];
                    }
                }
                const divisor = mode === 'avg' ? div[0][i] * div[1][j] : 1;
                Y[i].push(Math.fround(value / divisor));  // float32, as pool2d returns it
                windows[i].push({top: top + p[0], left: left + p[1], cells, divisor});
            }
        }
        const formula = ['height', 'width'].map(
            (axis, a) => axisFormula(axis, n[a], k[a], s[a], p[a], ceil)).join('\n');
        return {message: '', shape: out, Y, windows, formula};
    }

    // ------------------------------------------------------------------ showing it

    /* A number as the page shows it: whole numbers in full, others to 3 digits. */
    function show(v) {
        return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
    }

    // The figures' colours (poolbook.figures.COLORS, WINDOW_COLORS).
    const COLORS = {input: '#cfe2f3', padding: '#e8e8e8', outside: '#ffffff',
                    window: '#f6b26b', edge: '#b45f06', output: '#d9ead3',
                    result: '#93c47d', line: '#333333', text: '#111111'};
    const WINDOW_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
                           '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
    const SVG = 'http://www.w3.org/2000/svg';
    const CELL = 30;  // SVG units per cell
    const MODES = [['max', 'max'], ['avg', 'average'], ['sum', 'sum']];
    let count = 0;  // explorers on the page, for unique ids

    function element(tag, attributes = {}, text = '') {
        const el = document.createElement(tag);
        for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
        if (text) el.textContent = text;
        return el;
    }

    function svgElement(tag, attributes) {
        const el = document.createElementNS(SVG, tag);
        for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
        return el;
    }

    function callText(settings) {
        const [k, s, p] = [settings.pool_size, settings.strides, settings.padding];
        return `pool2d(X, ${pair(...k)}, '${settings.mode}', strides=${pair(...s)}, ` +
            `padding=${pair(...p)}, ceil_mode=${settings.ceil_mode ? 'True' : 'False'}, ` +
            `count_include_pad=${settings.count_include_pad ? 'True' : 'False'})`;
    }

    class Explorer {
        constructor(root) {
            this.root = root;
            this.id = `pool-explorer-${++count}`;
            this.inputs = JSON.parse(root.dataset.inputs);
            this.presets = JSON.parse(root.dataset.presets || '{}');
            this.ranges = JSON.parse(root.dataset.ranges);  // the sliders' [low, high]
            this.active = [0, 0];
            root.textContent = '';
            root.classList.add('pool-explorer-live');
            this.build();
            this.set(JSON.parse(root.dataset.settings));
        }

        /* The controls, the figure, the output and the text, once. */
        build() {
            const id = this.id;
            const form = element('form', {class: 'pe-controls', 'aria-label': 'Pooling settings'});
            form.addEventListener('submit', event => event.preventDefault());
            this.controls = {};
            const group = (legend, ...children) => {
                const box = element('fieldset');
                box.append(element('legend', {}, legend), ...children);
                form.append(box);
                return box;
            };
            // A label that holds only its text: a slider inside its label would add its
            // value to its name.
            const select = (name, label, options) => {
                const box = element('div', {class: 'pe-field'});
                const control = element('select', {name, id: `${id}-${name}`});
                for (const [value, text] of options) {
                    control.append(element('option', {value}, text));
                }
                box.append(element('label', {for: `${id}-${name}`}, label), control);
                this.controls[name] = control;
                return box;
            };
            const slider = (name, label, [low, high]) => {
                const box = element('div', {class: 'pe-field'});
                const control = element('input', {type: 'range', name, id: `${id}-${name}`,
                                                  min: low, max: high, step: 1});
                const value = element('output', {for: `${id}-${name}`, 'aria-hidden': 'true'});
                control.addEventListener('input', () => { value.textContent = control.value; });
                box.append(element('label', {for: `${id}-${name}`}, label), control, value);
                this.controls[name] = control;
                this.controls[name].shown = value;
                return box;
            };
            const check = (name, label) => {
                const box = element('label', {class: 'pe-check'});
                const control = element('input', {type: 'checkbox', name, id: `${id}-${name}`});
                box.append(control, ' ', element('span', {class: 'pe-name'}, label));
                this.controls[name] = control;
                return box;
            };
            group('Input', select('source', 'map',
                                  Object.keys(this.inputs).map(name => [name, name])),
                  ...(Object.keys(this.presets).length ? [select('preset', 'preset', [
                      ['', '(choose)'],
                      ...Object.keys(this.presets).map(name => [name, name])])] : []));
            const ranges = this.ranges;
            group('Window, pool_size', slider('k_h', 'height k_h', ranges.pool_size),
                  slider('k_w', 'width k_w', ranges.pool_size));
            group('Stride, strides', slider('s_h', 'down s_h', ranges.strides),
                  slider('s_w', 'across s_w', ranges.strides));
            group('Padding, padding', slider('p_h', 'rows p_h', ranges.padding),
                  slider('p_w', 'columns p_w', ranges.padding));
            const modes = element('div', {class: 'pe-modes'});
            this.modeButtons = MODES.map(([value, text]) => {
                const box = element('label', {class: 'pe-check'});
                const control = element('input', {type: 'radio', name: `${id}-mode`, value});
                box.append(control, ' ', text);
                modes.append(box);
                return control;
            });
            group('Mode', modes, check('ceil_mode', 'ceil_mode'),
                  check('count_include_pad', 'count_include_pad'));
            form.addEventListener('input', event => {
                if (event.target === this.controls.preset) return;
                if (this.controls.preset) this.controls.preset.value = '';
                this.update();
            });
            form.addEventListener('change', event => {
                if (event.target === this.controls.preset && event.target.value) {
                    this.set(this.presets[event.target.value]);
                }
            });

            this.call = element('div', {class: 'pe-call'});
            this.figure = element('div', {class: 'pe-figure'});
            this.svg = svgElement('svg', {role: 'img', class: 'pe-input'});
            this.table = element('table', {class: 'pe-output', role: 'grid'});
            this.caption = element('caption');
            this.body = element('tbody');
            this.table.append(this.caption, this.body);
            const outputBox = element('div', {class: 'pe-output-box'});
            outputBox.append(this.table, element('p', {class: 'pe-hint'},
                'Point at an output cell, or focus it and use the arrow keys, to see its ' +
                'window. Blue cells are the input, grey ones padding; dashed cells lie ' +
                'past the padded input, where only a ceil-mode window reaches, and count ' +
                'for nothing. Each window is outlined in the colour of its output cell.'));
            this.figure.append(this.svg, outputBox);
            this.equation = element('p', {class: 'pe-equation', id: `${id}-equation`});
            this.formula = element('div', {class: 'pe-formula', 'aria-label': 'output size'});
            this.refused = element('p', {class: 'pe-refused', role: 'alert'});
            this.status = element('p', {class: 'pe-status', role: 'status',
                                        'aria-live': 'polite'});
            this.root.append(form, this.call, this.status, this.refused, this.figure,
                             this.equation, this.formula);
            this.table.setAttribute('aria-describedby', `${id}-equation`);
            this.table.addEventListener('keydown', event => this.key(event));
            const pick = event => {  // the output cell under the pointer, or focused
                const td = event.target.closest && event.target.closest('td[data-cell]');
                if (td) this.highlight(...td.dataset.cell.split(' ').map(Number), false);
            };
            this.table.addEventListener('pointerover', pick);
            this.table.addEventListener('focusin', pick);
        }

        /* The settings the controls show, in pool2d's names, and the input's name. */
        settings() {
            const c = this.controls, v = name => Number(c[name].value);
            return {source: c.source.value, pool_size: [v('k_h'), v('k_w')],
                    strides: [v('s_h'), v('s_w')], padding: [v('p_h'), v('p_w')],
                    mode: this.modeButtons.find(b => b.checked).value,
                    ceil_mode: c.ceil_mode.checked,
                    count_include_pad: c.count_include_pad.checked};
        }

        /* Move the controls to `settings` (any subset of settings()'s keys), redraw. */
        set(settings) {
            const c = this.controls;
            const values = {source: settings.source};
            for (const [key, names] of [['pool_size', ['k_h', 'k_w']],
                                        ['strides', ['s_h', 's_w']],
                                        ['padding', ['p_h', 'p_w']]]) {
                if (settings[key] !== undefined) {
                    names.forEach((name, a) => { values[name] = settings[key][a]; });
                }
            }
            for (const [name, value] of Object.entries(values)) {
                if (value !== undefined) c[name].value = value;
            }
            for (const name of ['ceil_mode', 'count_include_pad']) {
                if (settings[name] !== undefined) c[name].checked = settings[name];
            }
            if (settings.mode !== undefined) {
                this.modeButtons.forEach(b => { b.checked = b.value === settings.mode; });
            }
            this.update();
        }

        /* Recompute and redraw everything for the controls' settings. */
        update() {
            for (const name of ['k_h', 'k_w', 's_h', 's_w', 'p_h', 'p_w']) {
                this.controls[name].shown.textContent = this.controls[name].value;
            }
            const settings = this.settings();
            this.X = this.inputs[settings.source];
            this.result = pool(this.X, settings);
            this.mode = settings.mode;
            const r = this.result, root = this.root;
            this.call.textContent = callText(settings);
            root.dataset.message = r.message;
            root.dataset.shape = r.message ? '' : r.shape.join(',');
            root.dataset.output = r.message ? '' : JSON.stringify(r.Y);
            root.dataset.formula = r.message ? '' : r.formula;
            this.refused.textContent = r.message ? `pool2d refuses this setting: ${r.message}` : '';
            this.figure.hidden = this.equation.hidden = this.formula.hidden = !!r.message;
            const [n_h, n_w] = [this.X.length, this.X[0].length];
            this.status.textContent = r.message ? 'Refused.' :
                `Input ${n_h} × ${n_w}, output ${r.shape[0]} × ${r.shape[1]}.`;
            if (r.message) {
                this.pending = null;
                return;
            }
            this.formula.textContent = r.formula;
            this.active = [Math.min(this.active[0], r.shape[0] - 1),
                           Math.min(this.active[1], r.shape[1] - 1)];
            this.drawOutput();
            this.highlight(...this.active, false);
            // The drawing follows at the next frame: moving a slider redraws it once per
            // frame however many changes came in between.
            this.pending = settings;
            if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
        }

        /* Draw the input for the latest settings now, if a drawing is due. */
        flush() {
            if (this.frame) cancelAnimationFrame(this.frame);
            this.frame = 0;
            if (!this.pending) return;
            this.drawInput(this.pending);
            this.pending = null;
            this.drawn = this.result;
            this.markWindow();
        }

        /* The padded input (and, in ceil mode, the cells a last window reaches past it),
           every window outlined in its colour; written as one string (fast to redraw). */
        drawInput(settings) {
            const {X, svg} = this, r = this.result;
            const [p_h, p_w] = settings.padding, [k_h, k_w] = settings.pool_size;
            const [n_h, n_w] = [X.length, X[0].length];
            const last = r.windows[r.shape[0] - 1][r.shape[1] - 1];
            const rows = Math.max(n_h + 2 * p_h, last.top + k_h);
            const cols = Math.max(n_w + 2 * p_w, last.left + k_w);
            const margin = 4, width = cols * CELL + 2 * margin;
            svg.setAttribute('viewBox', `${-margin} ${-margin} ${width} ${rows * CELL + 2 * margin}`);
            svg.style.maxWidth = `${width * 1.2}px`;
            svg.setAttribute('aria-label', `The input, ${n_h} × ${n_w}, padded by ` +
                `${pair(p_h, p_w)}, with its ${r.shape[0] * r.shape[1]} windows`);
            const parts = [], texts = [];
            for (let i = 0; i < rows; i++) {
                for (let j = 0; j < cols; j++) {
                    const a = i - p_h, b = j - p_w;
                    const inside = a >= 0 && a < n_h && b >= 0 && b < n_w;
                    const kind = inside ? 'input' : i < n_h + 2 * p_h && j < n_w + 2 * p_w
                        ? 'padding' : 'outside';
                    parts.push(`<rect class="pe-${kind}" x="${j * CELL}" y="${i * CELL}" ` +
                        `width="${CELL}" height="${CELL}" fill="${COLORS[kind]}" ` +
                        `stroke="${COLORS.line}"` + (kind === 'outside'
                            ? ' stroke-width="0.6" stroke-dasharray="3 3"/>' : '/>'));
                    if (inside) {
                        texts.push(`<text x="${(j + 0.5) * CELL}" y="${(i + 0.5) * CELL}" ` +
                            `text-anchor="middle" dominant-baseline="central" ` +
                            `fill="${COLORS.text}">${show(X[a][b])}</text>`);
                    }
                }
            }
            // The active window's shading under the numbers, its edge over the outlines.
            parts.push(`<rect class="pe-active-fill" width="${k_w * CELL}" ` +
                `height="${k_h * CELL}" fill="${COLORS.window}" fill-opacity="0.75"/>`,
                ...texts);
            r.windows.forEach((row, i) => row.forEach((w, j) => {
                const n = i * r.shape[1] + j, inset = 2 + n % 3;
                parts.push(`<rect class="pe-window" x="${w.left * CELL + inset}" ` +
                    `y="${w.top * CELL + inset}" width="${k_w * CELL - 2 * inset}" ` +
                    `height="${k_h * CELL - 2 * inset}" fill="none" stroke-width="2" ` +
                    `stroke="${WINDOW_COLORS[n % 10]}" stroke-opacity="0.55"/>`);
            }));
            parts.push(`<rect class="pe-active-window" width="${k_w * CELL}" ` +
                `height="${k_h * CELL}" fill="none" stroke="${COLORS.edge}" ` +
                'stroke-width="4"/>');
            svg.innerHTML = parts.join('');
            this.windowRects = Array.from(svg.querySelectorAll('.pe-window'));
            this.activeRects = [svg.querySelector('.pe-active-fill'), svg.lastChild];
        }

        /* The output as a grid of cells, each edged in its window's colour; one cell is
           in the tab order at a time (the arrow keys move between them). */
        drawOutput() {
            const r = this.result;
            this.caption.textContent = `Output, ${r.shape[0]} × ${r.shape[1]}`;
            this.body.innerHTML = r.Y.map((row, i) => '<tr>' + row.map((v, j) =>
                `<td tabindex="-1" data-cell="${i} ${j}" aria-label="row ${i}, column ` +
                `${j}: ${show(v)}" style="box-shadow: inset 0 0 0 3px ` +
                `${WINDOW_COLORS[(i * row.length + j) % 10]}">${show(v)}</td>`).join('') +
                '</tr>').join('');
            this.cells = Array.from(this.body.rows, tr => Array.from(tr.cells));
        }

        /* Mark output cell (i, j) and its window; with `focus`, move the focus there. */
        highlight(i, j, focus) {
            const r = this.result;
            if (!r || r.message) return;
            this.active = [i, j];
            const w = r.windows[i][j];
            this.cells.forEach((row, a) => row.forEach((td, b) => {
                const on = a === i && b === j;
                td.classList.toggle('pe-active', on);
                td.setAttribute('tabindex', on ? 0 : -1);
                td.setAttribute('aria-selected', on ? 'true' : 'false');
            }));
            this.markWindow();
            const values = w.cells.map(([a, b]) => show(this.X[a][b]));
            const mode = this.mode, y = show(r.Y[i][j]);
            const arithmetic = mode === 'max' ? `max(${values.join(', ')}) = ${y}` :
                mode === 'sum' ? `${values.join(' + ')} = ${y}` :
                `(${values.join(' + ')}) / ${w.divisor} = ${y}`;
            this.equation.textContent = `Output [${i}, ${j}]: ${arithmetic}`;
            if (focus) this.cells[i][j].focus();
        }

        /* Shade the active output cell's window in the drawing (once it is drawn). */
        markWindow() {
            const r = this.result;
            if (this.drawn !== r) return;
            const [i, j] = this.active, w = r.windows[i][j];
            for (const rect of this.activeRects) {
                rect.setAttribute('x', w.left * CELL);
                rect.setAttribute('y', w.top * CELL);
            }
            this.root.dataset.window = `${w.top} ${w.left}`;
            this.windowRects.forEach((rect, n) => rect.setAttribute(
                'stroke-opacity', n === i * r.shape[1] + j ? 1 : 0.55));
        }

        /* Arrow keys, Home and End move between output cells. */
        key(event) {
            const r = this.result;
            let [i, j] = this.active;
            const moves = {ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1],
                           ArrowRight: [0, 1]};
            if (moves[event.key]) {
                i = Math.min(Math.max(i + moves[event.key][0], 0), r.shape[0] - 1);
                j = Math.min(Math.max(j + moves[event.key][1], 0), r.shape[1] - 1);
            } else if (event.key === 'Home') {
                [i, j] = [0, 0];
            } else if (event.key === 'End') {
                [i, j] = [r.shape[0] - 1, r.shape[1] - 1];
            } else {
                return;
            }
            event.preventDefault();
            this.highlight(i, j, true);
        }
    }

    const instances = [];
    window.poolExplorer = {instances, pool, outputSize, divisors, refusal, axisFormula, show};

    function start() {
        for (const root of document.querySelectorAll('.pool-explorer[data-inputs]')) {
            if (!root.classList.contains('pool-explorer-live')) instances.push(new Explorer(root));
        }
    }
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
})();
